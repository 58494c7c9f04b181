"""Delivery through a real Celery worker on the configured broker."""

import re
import time
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from delivery import tasks
from delivery.models import Delivery, DeliveryStatus
from incidents.defaults import seed_defaults
from oncall.notifications import services
from oncall.notifications.models import ContactMethod
from tests.incidents.factories import declare

from .factories import email_method, page_message, paging_settings, webhook_method

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
S = DeliveryStatus


@pytest.fixture(autouse=True)
def seeded(transactional_db):
    """Transactional tests flush the tables the data migration seeded; put the defaults back."""
    seed_defaults(apps)


def wait_until(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_worker_delivers_email_and_signed_webhook_then_ack_link_acknowledges(celery_worker, smtp_server, receiver, responder, client):
    incident = declare(by=responder, title="Database failover")
    email_method(responder)
    hook = webhook_method(responder, f"{receiver.url}/pager")
    with transaction.atomic():
        rows = services.notify_user(user=responder, message=page_message(incident), dedup_key="esc:1")
    assert len(rows) == 2

    [mail] = smtp_server.wait_for(1, timeout=20)
    [req] = receiver.wait_for(1, "/pager", timeout=20)
    assert Webhook(hook.secret).verify(req.body, req.headers)["data"]["title"].endswith("Database failover")
    assert wait_until(lambda: Delivery.objects.filter(status=S.SENT).count() == 2)

    link = re.search(r"http://\S+(/ack/[^/\s]+/)", mail.part("text/plain")).group(1)
    assert client.post(link).status_code == 200
    incident.refresh_from_db()
    assert incident.acknowledged_by == responder


def test_worker_retries_with_backoff_then_fails(celery_worker, receiver, responder, settings):
    paging_settings(settings, retry_base_seconds=0.3, max_attempts=3)
    receiver.behaviour["/500"] = (500, 0)
    incident = declare(by=responder)
    webhook_method(responder, f"{receiver.url}/500")
    with transaction.atomic():
        [row] = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")
    assert wait_until(lambda: Delivery.objects.get(pk=row.pk).status == S.FAILED)
    row.refresh_from_db()
    assert row.attempts == 3 and row.response_code == 500
    assert len(receiver.for_path("/500")) == 3


def test_duplicate_tasks_and_the_sweep_send_once(celery_worker, receiver, responder, settings):
    settings.DELIVERY_SWEEP_GRACE_SECONDS = 0
    incident = declare(by=responder)
    webhook_method(responder, f"{receiver.url}/once")
    with transaction.atomic():
        [row] = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")
    for _ in range(3):
        tasks.delivery_send_task.delay(delivery_id=row.pk)  # redelivered messages
    tasks.delivery_sweep_task.delay()
    tasks.delivery_sweep_task()
    assert wait_until(lambda: Delivery.objects.get(pk=row.pk).status == S.SENT)
    time.sleep(0.5)  # let the duplicates run
    assert len(receiver.for_path("/once")) == 1


def test_a_hanging_receiver_holds_up_only_its_own_send_across_sweeps(celery_worker, receiver, responder, settings):
    """Rows the fast path missed (broker hiccup): a sweep that meets a hanging receiver is held
    up by that one send; the next sweep (beat sends one every few seconds) skips the claimed
    row and sends the others."""
    settings.DELIVERY_SWEEP_GRACE_SECONDS = 0
    settings.WEBHOOK_TIMEOUT_SECONDS = 3
    receiver.behaviour["/hang"] = (200, 30)
    incident = declare(by=responder)
    webhook_method(responder, f"{receiver.url}/hang")
    webhook_method(responder, f"{receiver.url}/ok")
    rows = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")  # no commit hook: no ETA task
    assert len(rows) == 2
    hang = next(r for r in rows if ContactMethod.objects.get(pk=r.destination_id).target.endswith("/hang"))
    Delivery.objects.filter(pk=hang.pk).update(due_at=timezone.now() - timedelta(seconds=10))  # the first sweep meets it first
    started = time.monotonic()
    tasks.delivery_sweep_task.delay()
    time.sleep(0.5)
    tasks.delivery_sweep_task.delay()
    receiver.wait_for(1, "/ok", timeout=10)
    assert time.monotonic() - started < 2.5, "the good receiver waited for the hanging one"
    assert wait_until(lambda: Delivery.objects.get(pk=hang.pk).status == S.PENDING)
    assert "Timeout" in Delivery.objects.get(pk=hang.pk).error
