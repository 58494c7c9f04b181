"""Safe defaults: anything but manage.py runs on production settings, and production refuses to
start with a missing or default SECRET_KEY, DEBUG on, or no ALLOWED_HOSTS."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"SECRET_KEY": "k" * 20 + "Zq7-9vLx2Pw4Ns8Rt1Yb6Hc3Jd5Fg0Ak", "ALLOWED_HOSTS": "portal.example.com"}


# What a deployment's environment would not hold (browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process).
DROP = ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")


def _run(code, **env):
    base = {k: v for k, v in os.environ.items() if k not in DROP}
    base.update(env)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("module", ["config.wsgi", "config.asgi", "config.celery"])
def test_entry_points_default_to_production_settings(module):
    result = _run(f"import {module}; from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)", **GOOD)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["config.settings.production", "False"]


@pytest.mark.parametrize("module", ["config.wsgi", "config.celery"])
def test_entry_points_refuse_to_start_without_a_secret_key(module):
    result = _run(f"import {module}; from django.conf import settings; settings.SECRET_KEY", ALLOWED_HOSTS="portal.example.com")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "SECRET_KEY" in result.stderr


@pytest.mark.parametrize(("env", "word"), [
    ({"SECRET_KEY": ""}, "SECRET_KEY"),
    ({"SECRET_KEY": "dev-insecure-key-change-me-5f1c0a9e7b4d4f2a8c6e"}, "SECRET_KEY"),
    ({"SECRET_KEY": "django-insecure-0123456789abcdefghijklmnopqrstuvwxyz0123456789"}, "SECRET_KEY"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"DEBUG": "true"}, "DEBUG"),
    ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
])
def test_production_refuses_unsafe_settings(env, word):
    result = _run("import django; import os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings.production'; django.setup()", **{**GOOD, **env})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and word in result.stderr.splitlines()[-1]


def test_manage_py_stays_on_development_settings_but_debug_only_for_runserver():
    code = ("import sys, os; sys.argv=['manage.py', '{cmd}']; import manage; "
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.dev'); "
            "from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)")
    assert _run(code.format(cmd="runserver")).stdout.split() == ["config.settings.dev", "True"]
    assert _run(code.format(cmd="migrate")).stdout.split() == ["config.settings.dev", "False"]


def test_procfile_runs_worker_and_beat_on_development_settings():
    procfile = (ROOT / "Procfile").read_text()
    for line in procfile.splitlines():
        if "celery" in line:
            assert "DJANGO_SETTINGS_MODULE=config.settings.dev" in line


def test_production_settings_pass_check_deploy():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**{k: v for k, v in os.environ.items() if k not in DROP}, "DJANGO_SETTINGS_MODULE": "config.settings.production", **GOOD},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_proxy_ssl_header_only_with_trusted_proxies_and_session_length_from_the_environment():
    code = ("import os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings.production'; from django.conf import settings; "
            "print(settings.SECURE_PROXY_SSL_HEADER, settings.SESSION_COOKIE_AGE, settings.SESSION_COOKIE_SECURE, settings.SECURE_SSL_REDIRECT)")
    assert _run(code, **GOOD).stdout.split() == ["None", "43200", "True", "True"]
    behind = _run(code, **GOOD, TRUSTED_PROXIES="10.0.0.0/8", SESSION_COOKIE_AGE="3600", SECURE_SSL_REDIRECT="false").stdout
    assert behind.split() == ["('HTTP_X_FORWARDED_PROTO',", "'https')", "3600", "True", "False"]


def test_production_keeps_database_connections_and_checks_them_before_reuse():
    """A connection per request and per task starts a PostgreSQL server process each time (about
    5 ms of its CPU, ten times for each alert of a storm); a kept one is checked before reuse so
    a restart of PostgreSQL needs nothing from anybody."""
    code = ("import config.celery; from django.conf import settings; d = settings.DATABASES['default']; "
            "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])")
    assert _run(code, **GOOD).stdout.split() == ["60", "True"]
    assert _run(code, **GOOD, CONN_MAX_AGE="0").stdout.split() == ["0", "True"]


def test_gunicorn_loads_the_application_once_so_a_dead_worker_comes_back_ready():
    config = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), config)
    assert config["preload_app"] is True
