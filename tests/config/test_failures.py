"""What the web answers while a dependency is down: /readyz names it, ingest asks senders to
retry (503 + Retry-After), staff pages show a styled 503 page, and declaring an incident does
not wait on a dead broker (the event row stays for the sweep)."""

import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from config.celery import app as celery_app
from incidents.integrations.services import configuration
from incidents.models import Incident, Service, TimelineEvent
from tests.conftest import free_port

pytestmark = pytest.mark.django_db(transaction=True)

ALERT = {
    "version": "4", "groupKey": '{}:{alertname="Down"}', "status": "firing", "receiver": "portal",
    "groupLabels": {"alertname": "Down"}, "commonLabels": {"alertname": "Down"}, "commonAnnotations": {},
    "externalURL": "http://alertmanager:9093", "truncatedAlerts": 0,
    "alerts": [{"status": "firing", "labels": {"alertname": "Down"}, "annotations": {"summary": "down"},
                "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "0123456789abcdef"}],
}


def _drop_broker_pools():
    celery_app._pool = None  # noqa: SLF001  (rebuilt on next use, from the URL in force then)
    celery_app.amqp._producer_pool = None  # noqa: SLF001


@pytest.fixture
def dead_broker(monkeypatch):
    """The Celery app pointed at a port nothing listens on (Celery reads CELERY_BROKER_URL from
    the environment before its settings), with connection pools built afresh before and after."""
    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://127.0.0.1:{free_port()}/0")
    _drop_broker_pools()
    yield
    monkeypatch.delenv("CELERY_BROKER_URL")
    _drop_broker_pools()


@contextmanager
def dead_database():
    """The default connection pointed at somewhere no database is, for the duration of a request."""
    connection.close()
    saved = dict(connection.settings_dict)
    if connection.vendor == "postgresql":
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(free_port()))
    else:
        connection.settings_dict.update(NAME="/nonexistent-directory/portal.sqlite3")
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


def test_readyz_answers_ok_for_each_dependency(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok", "cache": "ok"}


def test_readyz_names_the_broker_when_it_is_down_without_its_error_text(client, dead_broker):
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    body = response.json()
    assert body == {"status": "unavailable", "database": "ok", "broker": "down", "cache": "ok"}


def test_declaring_with_the_broker_down_answers_fast_and_leaves_the_event_for_the_sweep(responder_api, dead_broker):
    started = time.monotonic()
    response = responder_api.post("/api/v1/incidents/", {"title": "Broker gone", "severity": "P1"}, format="json")
    assert response.status_code == 201, response.content
    assert time.monotonic() - started < 5
    incident = Incident.objects.get(title="Broker gone")
    assert TimelineEvent.objects.filter(incident=incident, dispatched_at__isnull=True).exists()


def test_ingest_with_the_database_unreachable_asks_the_sender_to_retry(sev):
    service = Service.objects.create(name="Checkout", slug="checkout")
    _integration, key = configuration.integration_create(
        name="AM", service=service, kind="alertmanager", default_severity=sev("P1"))
    client = Client(raise_request_exception=False)
    with dead_database():
        response = client.post(f"/api/v1/integrations/{key}/alertmanager/", ALERT, content_type="application/json")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert "Traceback" not in response.content.decode()


def test_staff_page_with_the_database_unreachable_is_a_styled_503(responder):
    client = Client(raise_request_exception=False)
    client.force_login(responder)
    with dead_database():
        response = client.get("/")
        api = client.get("/api/v1/incidents/")
    html = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"]
    assert "Temporarily unavailable" in html and "portal.css" in html
    assert "Traceback" not in html and "OperationalError" not in html and "connection" not in html.lower()
    assert api.status_code == 503 and api.json()["code"] == "unavailable"


def dead_cache_settings(backend="config.cache.FailSoftRedisCache"):
    return {"default": {"BACKEND": backend, "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
                        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}


def test_fail_soft_cache_misses_and_skips_writes_when_redis_is_unreachable():
    from config.cache import FailSoftRedisCache

    dead = FailSoftRedisCache(dead_cache_settings()["default"]["LOCATION"], {"OPTIONS": {"socket_connect_timeout": 1}})
    assert dead.get("k", "fallback") == "fallback" and dead.get_many(["k"]) == {}
    assert dead.add("k", 1) is False and dead.set("k", 1) is None and dead.delete("k") is False
    assert dead.has_key("k") is False


def test_public_status_page_and_readyz_with_the_cache_unreachable(client, settings):
    settings.CACHES = dead_cache_settings()
    assert client.get("/status/").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["cache"] == "down"


def test_a_page_left_half_sent_by_a_killed_worker_goes_out_within_seconds(responder, settings):
    """A worker SIGKILLed between claiming a page and finishing it leaves the row in `sending`.
    To a webhook (whose receivers drop a re-send by its `webhook-id`) the sweep sends it again
    after the paging purpose's short lease, with the same id; to email (which cannot drop a
    duplicate) only after `live_send_seconds`, longer than any live send."""
    from bench.common import Receiver
    from delivery import outbox
    from delivery.models import Delivery, DeliveryStatus
    from oncall.notifications import services
    from tests.incidents.factories import declare
    from tests.notifications.factories import email_method, page_message, paging_settings, webhook_method

    receiver = Receiver()
    try:
        settings.DELIVERY_SWEEP_GRACE_SECONDS = 0
        paging_settings(settings, lease_seconds=5)
        incident = declare(by=responder)
        webhook_method(responder, f"{receiver.url}/hook")
        email_method(responder)
        rows = services.notify_user(user=responder, message=page_message(incident), dedup_key="killed")
        for row in rows:
            assert outbox.claim(row.pk).row is not None  # claimed, then the worker died
        Delivery.objects.filter(pk__in=[r.pk for r in rows]).update(claimed_at=timezone.now() - timedelta(seconds=6))
        outbox.sweep(paging=True)
        states = dict(Delivery.objects.filter(pk__in=[r.pk for r in rows]).values_list("channel", "status"))
        assert states == {"webhook": DeliveryStatus.SENT, "email": DeliveryStatus.SENDING}
        assert receiver.count == 1
        Delivery.objects.filter(pk__in=[r.pk for r in rows], channel="email").update(
            claimed_at=timezone.now() - timedelta(seconds=settings.DELIVERY_DEFAULTS["live_send_seconds"] + 1))
        outbox.sweep(paging=True)
        assert set(Delivery.objects.filter(pk__in=[r.pk for r in rows]).values_list("status", flat=True)) == {DeliveryStatus.SENT}
    finally:
        receiver.close()
