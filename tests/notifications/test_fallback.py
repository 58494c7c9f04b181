"""A send that fails for good says why on its row and on the incident page, and the person's
next channel is tried at once instead of at its rule's delay."""

import time

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction
from django.utils import timezone

from delivery import outbox
from delivery.models import Delivery, DeliveryStatus
from incidents.models import TimelineEvent
from oncall.notifications import services
from tests.conftest import free_port
from tests.incidents.factories import declare

from .factories import email_method, page_message, paging_settings, webhook_method

S = DeliveryStatus


def webhook_then_email(person, receiver, status=410, delay_minutes=5):
    """Rules: a webhook at once (answering `status`), email `delay_minutes` later."""
    receiver.behaviour["/gone"] = (status, 0)
    hook = webhook_method(person, f"{receiver.url}/gone")
    mail = email_method(person, add_default_rule=False)
    services.notification_rule_create(user=person, contact_method=mail, delay_minutes=delay_minutes)
    return hook, mail


@pytest.mark.django_db
def test_permanent_failure_records_why_and_tries_the_next_rule_at_once(receiver, smtp_server, responder, client):
    incident = declare(by=responder, title="Payments down")
    hook, mail = webhook_then_email(responder, receiver)
    rows = services.notify_user(user=responder, message=page_message(incident), dedup_key="esc:1:0:0")
    first = next(r for r in rows if r.destination_id == hook.pk)
    second = next(r for r in rows if r.destination_id == mail.pk)
    assert second.due_at > timezone.now() + timezone.timedelta(minutes=4)

    follow_up = outbox.deliver(first.pk)
    first.refresh_from_db()
    assert first.status == S.FAILED and first.error == "HTTP 410" and first.response_code == 410
    second.refresh_from_db()
    assert second.status == S.PENDING and second.due_at <= timezone.now()
    assert [r.pk for r in follow_up][0] == second.pk
    assert [r.kind for r in follow_up][1:] == ["method_failing"]  # and the owner hears the webhook fails

    outbox.deliver(second.pk)
    second.refresh_from_db()
    assert second.status == S.SENT
    [got] = smtp_server.wait_for(1)
    assert got.recipients == ["responder@example.com"]

    [entry] = TimelineEvent.objects.filter(incident=incident, kind="notification.failed")
    assert "Webhook" in entry.message and "HTTP 410" in entry.message and "trying Email" in entry.message

    client.force_login(responder)
    page = client.get(incident.get_absolute_url()).text
    assert "HTTP 410" in page and "Failed" in page


@pytest.mark.django_db
def test_failure_of_the_last_channel_says_nothing_is_left(receiver, responder):
    incident = declare(by=responder)
    receiver.behaviour["/gone"] = (404, 0)
    webhook_method(responder, f"{receiver.url}/gone")
    [row] = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")
    assert outbox.deliver(row.pk) == []
    [entry] = TimelineEvent.objects.filter(incident=incident, kind="notification.failed")
    assert "no other channel" in entry.message


@pytest.mark.django_db
def test_failure_beside_a_channel_sent_at_the_same_time_says_so(receiver, smtp_server, responder):
    incident = declare(by=responder)
    receiver.behaviour["/gone"] = (404, 0)
    webhook_method(responder, f"{receiver.url}/gone")
    email_method(responder)
    follow_up = []
    for row in services.notify_user(user=responder, message=page_message(incident), dedup_key="k"):
        follow_up += outbox.deliver(row.pk)
    smtp_server.wait_for(1)
    # the one follow-up: the webhook's owner hears through their email that it is failing
    assert [(r.kind, r.channel) for r in follow_up] == [("method_failing", "email")]
    [entry] = TimelineEvent.objects.filter(incident=incident, kind="notification.failed")
    assert "their other channels were tried already" in entry.message


@pytest.mark.django_db
def test_a_transient_failure_does_not_skip_ahead(receiver, smtp_server, responder, settings):
    paging_settings(settings, retry_base_seconds=60)
    incident = declare(by=responder)
    hook, mail = webhook_then_email(responder, receiver, status=503)
    rows = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")
    first = next(r for r in rows if r.destination_id == hook.pk)
    outbox.deliver(first.pk)
    second = Delivery.objects.get(destination_id=mail.pk)
    assert second.due_at > timezone.now() + timezone.timedelta(minutes=4)
    assert not TimelineEvent.objects.filter(incident=incident, kind="notification.failed").exists()


@pytest.mark.django_db
def test_fallback_happens_once_when_the_failure_is_recorded_twice(receiver, responder):
    """The failed row moves by compare-and-set: a second recording (a redelivered task) finds it
    already failed and writes no second timeline entry."""
    incident = declare(by=responder)
    hook, _mail = webhook_then_email(responder, receiver)
    rows = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")
    first = next(r for r in rows if r.destination_id == hook.pk)
    claimed = outbox.claim(first.pk).row
    assert outbox.send_claimed(claimed) != []  # the fallback and the owner's notice
    assert outbox.send_claimed(claimed) == []
    assert TimelineEvent.objects.filter(incident=incident, kind="notification.failed").count() == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_worker_falls_back_from_a_gone_webhook_to_email_and_the_incident_page_shows_why(
        celery_worker, receiver, smtp_server, responder, client):
    incident = declare(by=responder, title="Search is down")
    hook, mail = webhook_then_email(responder, receiver)
    started = time.monotonic()
    with transaction.atomic():
        services.notify_user(user=responder, message=page_message(incident), dedup_key="esc:9:0:0")

    mails = smtp_server.wait_for(2, timeout=30)
    assert time.monotonic() - started < 30, "the email rule was due in 5 minutes: it must have been pulled forward"
    subjects = sorted(m.message["Subject"] for m in mails)
    assert any("Search is down" in s for s in subjects)
    assert any("is failing" in s for s in subjects), "the owner hears that the webhook fails, by their email"
    assert len(receiver.for_path("/gone")) == 1
    failed = Delivery.objects.get(destination_id=hook.pk)
    assert failed.status == S.FAILED and failed.error == "HTTP 410"

    client.force_login(responder)
    page = client.get(incident.get_absolute_url()).text
    assert "HTTP 410" in page
    assert TimelineEvent.objects.filter(incident=incident, kind="notification.failed").count() == 1


class _Rejecting:
    async def handle_DATA(self, server, session, envelope):
        return "554 5.7.1 Message rejected as spam"


@pytest.mark.django_db
def test_an_smtp_server_rejecting_the_message_fails_it_for_good_and_falls_back(receiver, responder, settings):
    controller = Controller(_Rejecting(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        incident = declare(by=responder)
        email_method(responder)
        hook = webhook_method(responder, f"{receiver.url}/ok", add_default_rule=False)
        services.notification_rule_create(user=responder, contact_method=hook, delay_minutes=10)
        rows = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")
        first = next(r for r in rows if r.destination_id != hook.pk)
        follow_up = outbox.deliver(first.pk)
        first.refresh_from_db()
        assert first.status == S.FAILED and first.attempts == 1 and "554" in first.error
        for row in follow_up:
            outbox.deliver(row.pk)
        receiver.wait_for(1, "/ok")
    finally:
        controller.stop()
