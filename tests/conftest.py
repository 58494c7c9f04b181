"""Fixtures shared by the whole suite: the permission matrix (viewer, responder, admin,
outsider), API clients authenticated by real tokens, and a real Celery worker."""

import os
import shutil
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from rest_framework.test import APIClient

from bench.common import free_port  # noqa: F401  (the tests import it from here)
from incidents.access import api_token_create
from incidents.groups import ADMIN, RESPONDER, VIEWER, ensure_groups
from incidents.models import Severity

IN_CI = bool(os.environ.get("CI"))


@pytest.fixture(autouse=True)
def _seeded_defaults(request):
    """Transactional tests flush the tables the data migrations seeded: put the defaults back.

    Each app whose data migrations seed rows exposes `seed_defaults(apps)` on its AppConfig
    (idempotent, like `incidents.defaults.seed_defaults`)."""
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    if uses_db:
        request.getfixturevalue("db")  # pytest-django picks transactional when the test asked for it
        from django.apps import apps as django_apps

        for config in django_apps.get_app_configs():
            seed = getattr(config, "seed_defaults", None)
            if seed is not None:
                seed(django_apps)


def _user(username, group=None, **extra):
    User = get_user_model()
    user = User.objects.create_user(username, f"{username}@example.com", "pw-123456", first_name=username.title(), **extra)
    if group:
        ensure_groups()
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def viewer(db):
    return _user("viewer", VIEWER)


@pytest.fixture
def responder(db):
    return _user("responder", RESPONDER)


@pytest.fixture
def responder2(db):
    return _user("responder2", RESPONDER)


@pytest.fixture
def admin_user(db):
    return _user("boss", ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def outsider(db):
    return _user("outsider")


def _api(user):
    client = APIClient()
    if user is not None:
        _token, key = api_token_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def api_for():
    """api_for(user) -> an APIClient sending that user's real token."""
    return _api


@pytest.fixture
def responder_api(responder):
    return _api(responder)


@pytest.fixture
def viewer_api(viewer):
    return _api(viewer)


@pytest.fixture
def admin_api(admin_user):
    return _api(admin_user)


@pytest.fixture
def sev(db):
    """sev('P1') -> the seeded severity."""
    return lambda key: Severity.objects.get(key=key)


@pytest.fixture
def require_postgres():
    if connection.vendor != "postgresql":
        if IN_CI:
            pytest.fail("CI must run on PostgreSQL (DATABASE_URL)")
        pytest.skip("needs PostgreSQL: set DATABASE_URL")


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker (threads) consuming the configured broker (Redis in CI): the default
    queue and the paging queue, as the two production pools together."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.conf import settings
    from django.db import connection

    from config.celery import app

    def close_thread_connection(**_kwargs):
        connection.close()  # each pool thread has its own; leave none open for teardown

    task_postrun.connect(close_thread_connection, weak=False)
    try:
        with start_worker(app, pool="threads", concurrency=4, perform_ping_check=False, loglevel="WARNING",
                          shutdown_timeout=10, queues=[settings.CELERY_TASK_DEFAULT_QUEUE, settings.PAGING_QUEUE]):
            yield app
    finally:
        task_postrun.disconnect(close_thread_connection)


@pytest.fixture(scope="session")
def chromium_path():
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        if IN_CI:
            pytest.fail("chromium is not installed; .ci/run installs it")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return path


CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture
def browser_page(chromium_path, live_server, tmp_path):
    """A Playwright page in Debian's chromium, pointed at the live test server.

    Usage: `browser_page.goto(live_server.url + "/")`. Screenshots go to test-artifacts/."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def browser_login(page, live_server, username, password="pw-123456"):
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def wait_for(predicate, timeout=20.0, what="condition"):
    """Poll until `predicate()` is truthy and return its value; fail the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture(scope="session", autouse=True)
def _close_stray_sessions(django_db_setup, django_db_blocker):
    """Before the test database is dropped: end the sessions of live-server request threads
    still parked on a keep-alive socket (a browser, Alertmanager or an HTTP client kept the
    connection open). Django closes them only when the HTTP connection ends."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture
def back_to_latest_migrations():
    """For a test that migrates the database back to check a data migration: afterwards the
    database is at every app's latest migration again, whatever later migrations exist (the tests
    that run after it on this worker need the whole schema)."""
    yield
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
