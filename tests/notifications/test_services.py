"""notify_user: the interface the escalation engine calls."""

from datetime import timedelta

import pytest
from django.utils import timezone

from delivery import outbox
from delivery.models import Delivery, DeliveryStatus
from incidents import services as incident_services
from oncall.notifications import purposes, services
from tests.incidents.factories import declare

from .factories import email_method, page_message, webhook_method

pytestmark = pytest.mark.django_db
S = DeliveryStatus


def test_notify_user_fans_out_per_rules_and_is_idempotent(responder, django_capture_on_commit_callbacks):
    incident = declare(by=responder)
    mail = email_method(responder)
    hook = webhook_method(responder, "http://127.0.0.1:9/hook", add_default_rule=False)
    services.notification_rule_create(user=responder, contact_method=hook, delay_minutes=5)

    with django_capture_on_commit_callbacks() as callbacks:
        rows = services.notify_user(user=responder, message=page_message(incident), dedup_key="esc:1:1")
    assert [(r.destination_id, r.step) for r in rows] == [(mail.pk, 0), (hook.pk, 5)]
    assert rows[1].due_at - rows[0].due_at >= timedelta(minutes=5) - timedelta(seconds=1)
    assert {r.purpose for r in rows} == {"paging"}
    assert all(r.incident_id == incident.pk for r in rows)
    assert len(callbacks) == 1  # enqueueing waits for commit

    again = services.notify_user(user=responder, message=page_message(incident), dedup_key="esc:1:1")
    assert again == []
    assert Delivery.objects.count() == 2


def test_user_without_rules_gets_every_active_method_at_once(responder):
    incident = declare(by=responder)
    a = email_method(responder, add_default_rule=False)
    b = email_method(responder, "other@example.com", add_default_rule=False)
    c = email_method(responder, "off@example.com", add_default_rule=False)
    services.contact_method_update(method=c, is_active=False)
    rows = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")
    assert {r.destination_id for r in rows} == {a.pk, b.pk}
    assert {r.step for r in rows} == {0}


def test_delayed_step_is_cancelled_when_incident_was_acknowledged(responder):
    incident = declare(by=responder)
    hook = webhook_method(responder, "http://127.0.0.1:9/hook", add_default_rule=False)
    services.notification_rule_create(user=responder, contact_method=hook, delay_minutes=5)
    [row] = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")
    incident_services.incident_acknowledge(incident=incident, by=responder)

    taken = outbox.claim(row.pk, now=timezone.now() + timedelta(minutes=6))
    assert taken.row is None
    row.refresh_from_db()
    assert row.status == S.CANCELLED
    assert "acknowledged" in row.error


def test_claim_twice_sends_once(responder):
    incident = declare(by=responder)
    email_method(responder)
    [row] = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")
    first = outbox.claim(row.pk)
    second = outbox.claim(row.pk)
    assert first.row is not None
    assert second.row is None
    row.refresh_from_db()
    assert row.status == S.SENDING


def test_claim_ignores_rows_not_yet_due(responder):
    incident = declare(by=responder)
    hook = webhook_method(responder, "http://127.0.0.1:9/hook", add_default_rule=False)
    services.notification_rule_create(user=responder, contact_method=hook, delay_minutes=5)
    [row] = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")
    assert outbox.claim(row.pk).row is None
    row.refresh_from_db()
    assert row.status == S.PENDING


def test_long_dedup_keys_stay_unique_and_idempotent(responder):
    incident = declare(by=responder)
    email_method(responder)
    key_a, key_b = "x" * 300 + "a", "x" * 300 + "b"
    assert len(services.notify_user(user=responder, message=page_message(incident), dedup_key=key_a)) == 1
    assert len(services.notify_user(user=responder, message=page_message(incident), dedup_key=key_b)) == 1
    assert services.notify_user(user=responder, message=page_message(incident), dedup_key=key_a) == []


def test_no_ack_link_once_the_incident_is_acknowledged(responder):
    incident = declare(by=responder)
    email_method(responder)
    [row] = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")
    row = outbox.claim(row.pk).row
    assert "/ack/" in purposes.paging_compose(row).ack_url
    incident_services.incident_acknowledge(incident=incident, by=responder)
    row.incident.refresh_from_db()
    assert purposes.paging_compose(row).ack_url == ""
