"""The phone ladder through a real Celery worker: push at once, then SMS, then a call; a
keypress on the call acknowledges and the rest of the ladder is skipped."""

import time
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import transaction
from django.test import Client
from django.utils import timezone

from delivery import outbox
from delivery.models import Delivery, DeliveryStatus
from incidents.defaults import seed_defaults
from oncall.notifications import services
from oncall.notifications.models import ContactMethod
from tests.incidents.factories import declare

from .factories import page_message
from .test_phones import E164, NUMBER, signed, twilio  # noqa: F401  (the fake Twilio fixture)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
S = DeliveryStatus


@pytest.fixture(autouse=True)
def seeded(transactional_db):
    seed_defaults(apps)


def wait_until(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_push_then_sms_then_call_and_a_keypress_stops_the_ladder(celery_worker, twilio, receiver, responder):  # noqa: F811
    incident = declare(by=responder, title="Payments down")
    push = services.contact_method_create(user=responder, kind="ntfy", target=f"{receiver.url}/oncall-r")
    ladder = {}
    for kind, delay in (("sms", 2), ("voice", 5)):
        ladder[kind] = services.contact_method_create(user=responder, kind=kind, target=NUMBER, add_default_rule=False)
        services.notification_rule_create(user=responder, contact_method=ladder[kind], delay_minutes=delay)
    mail = services.contact_method_create(user=responder, kind="email", target="late@example.com", add_default_rule=False)
    services.notification_rule_create(user=responder, contact_method=mail, delay_minutes=10)
    ContactMethod.objects.filter(kind__in=["sms", "voice"]).update(verified_at=timezone.now())
    with transaction.atomic():
        rows = services.notify_user(user=responder, message=page_message(incident), dedup_key="esc:1")
    assert sorted(r.step for r in rows) == [0, 2, 5, 10]
    receiver.wait_for(1, "/", timeout=20)  # the push, at once
    assert wait_until(lambda: Delivery.objects.filter(destination_id=push.pk, status=S.SENT).exists())

    # The minutes pass: the SMS step, then the call step, become due and the worker sends them.
    for kind, resource in (("sms", "Messages"), ("voice", "Calls")):
        row = Delivery.objects.get(destination_id=ladder[kind].pk)
        Delivery.objects.filter(pk=row.pk).update(due_at=timezone.now())
        row.refresh_from_db()
        outbox.enqueue([row])
        assert wait_until(lambda resource=resource: len(twilio.sent(resource)) == 1), resource
    assert E164 in twilio.sent("Messages")[0]["To"] and "Reply 4" in twilio.sent("Messages")[0]["Body"]
    call = Delivery.objects.get(destination_id=ladder["voice"].pk)
    assert wait_until(lambda: Delivery.objects.filter(pk=call.pk, status=S.SENT).exists())

    done = signed(Client(), f"/notifications/twilio/voice/{call.public_id}/", {"CallSid": "CA1", "Digits": "1"})
    assert "Acknowledged" in done.text
    incident.refresh_from_db()
    assert incident.acknowledged_by == responder

    late = Delivery.objects.get(destination_id=mail.pk)
    Delivery.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    late.refresh_from_db()
    outbox.enqueue([late])
    assert wait_until(lambda: Delivery.objects.filter(pk=late.pk, status=S.CANCELLED).exists()), "the ladder stops"
