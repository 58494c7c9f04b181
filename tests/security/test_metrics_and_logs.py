"""/metrics behind an optional bearer token; secrets in URL paths never reach a log line."""

import io
import logging
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from config.redact import redact
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
KEY = "Sup3rSecretIntegrationKey0123456789abcdef"

SECRET_PATHS = [
    f"/api/v1/integrations/{KEY}/alertmanager/",
    f"/api/v1/integrations/{KEY}/webhook/",
    f"/api/v1/integrations/{KEY}/heartbeat/",
    f"/oncall/calendar/schedule/{KEY}.ics",
    f"/oncall/calendar/user/{KEY}.ics",
    f"/ack/{KEY}/",
    f"/status/subscribe/confirm/{KEY}/",
    f"/status/unsubscribe/{KEY}/",
    f"/somewhere/?token={KEY}&x=1",
]


@pytest.mark.django_db
def test_metrics_are_open_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 200


@pytest.mark.django_db
def test_metrics_need_the_bearer_token_when_one_is_set(client, settings):
    settings.METRICS_TOKEN = "scrape-me-0123456789"
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Token scrape-me-0123456789").status_code == 401
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me-0123456789")
    assert ok.status_code == 200 and b"# TYPE" in ok.content


@pytest.mark.parametrize("path", SECRET_PATHS)
def test_redact_removes_every_secret_from_a_path(path):
    line = f'"GET {path} HTTP/1.1" 404 179'
    assert KEY not in redact(line)
    assert "[redacted]" in redact(line)


def test_ordinary_paths_are_left_alone():
    for path in ["/incidents/INC-20261125-001/", "/api/v1/integrations/", "/status/", "/oncall/schedules/3/"]:
        assert redact(path) == path


@pytest.mark.django_db
def test_django_request_log_lines_are_redacted(client):
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "name", "") == "console")
    stream = io.StringIO()
    old = handler.setStream(stream)
    try:
        for path in SECRET_PATHS:
            client.get(path + "nope/" if path.endswith("/") else path)
    finally:
        handler.setStream(old)
    out = stream.getvalue()
    assert "Not Found" in out or "Bad Request" in out or "Method Not Allowed" in out
    assert KEY not in out


def _database_url():
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return f"sqlite:///{s['NAME']}"


def _hit(port, paths):
    for path in paths:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10).read()
        except Exception:  # 4xx answers raise; all we want is the log line
            pass


def _serve_and_hit(cmd, port, env):
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except Exception:
                time.sleep(0.2)
        _hit(port, SECRET_PATHS)
        time.sleep(0.5)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    return out


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("server", ["runserver", "gunicorn"])
def test_access_logs_of_runserver_and_gunicorn_are_redacted(server):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "config.settings.dev", "PYTHONUNBUFFERED": "1"}
    env.pop("DEBUG", None)
    if server == "runserver":
        cmd = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"]
    else:
        cmd = [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1", "--access-logfile", "-"]
    out = _serve_and_hit(cmd, port, env)
    assert "/healthz" in out, out  # the access log is there at all
    assert "[redacted]" in out, out
    assert KEY not in out, out
