"""/metrics gauges that say paging is stuck: escalation steps due but not fired, notifications
undelivered, timeline events and outbox rows not dispatched (each a count and the age of the
oldest)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from delivery.models import Delivery, DeliveryStatus
from incidents.models import EventDelivery
from oncall.models import EscalationStep, StepStatus
from oncall.services.escalation import escalation_start
from tests.incidents.factories import declare

from .conftest import Condition, TargetKind, make_policy, person

pytestmark = pytest.mark.django_db


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_gauges_are_zero_when_nothing_waits(client):
    got = scrape(client)
    for name in ("portal_escalation_steps_unfired", "portal_escalation_steps_unfired_oldest_seconds",
                 "portal_events_undispatched",
                 "portal_events_undispatched_oldest_seconds", "portal_event_deliveries_pending_oldest_seconds"):
        assert got[(name, ())] == 0, name
    for purpose in ("paging", "stakeholders"):
        assert got[("portal_deliveries_undelivered_oldest_seconds", (("purpose", purpose),))] == 0
        assert got[("portal_deliveries_undelivered", (("purpose", purpose), ("state", "pending_past_due")))] == 0
        assert got[("portal_deliveries_undelivered", (("purpose", purpose), ("state", "failed")))] == 0


def test_gauges_count_and_age_what_is_stuck(client, service):
    alice = person("alice")
    policy = make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, alice)]),
                          (600, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, alice)])])
    incident = declare(services=[service])  # no worker: its outbox rows stay pending
    now = timezone.now()
    escalation = escalation_start(incident=incident, policy=policy, now=now - timedelta(seconds=90))
    first = EscalationStep.objects.get(escalation=escalation, level=0)
    EscalationStep.objects.filter(pk=first.pk).update(due_at=now - timedelta(seconds=90))  # due, never fired
    assert EscalationStep.objects.get(escalation=escalation, level=1).status == StepStatus.PENDING  # not due: not counted

    base = {"purpose": "paging", "user": alice, "incident": incident, "channel": "email", "target": "a***@example.com", "message": {}}
    Delivery.objects.create(dedup_key="late", due_at=now - timedelta(seconds=45), **base)
    Delivery.objects.create(dedup_key="later", due_at=now + timedelta(minutes=5), **base)
    Delivery.objects.create(dedup_key="gave-up", due_at=now - timedelta(hours=1), status=DeliveryStatus.FAILED, **base)
    event = incident.timeline.get(kind="declared")
    EventDelivery.objects.filter(event=event).update(created_at=now - timedelta(seconds=30))
    EventDelivery.objects.filter(event=event, subscriber="oncall.escalation").update(status="failed")
    pending = EventDelivery.objects.filter(event=event, status="pending").count()
    assert pending >= 1

    got = scrape(client)
    assert got[("portal_escalation_steps_unfired", ())] == 1
    assert 85 <= got[("portal_escalation_steps_unfired_oldest_seconds", ())] < 150
    assert got[("portal_deliveries_undelivered", (("purpose", "paging"), ("state", "pending_past_due")))] == 1
    assert got[("portal_deliveries_undelivered", (("purpose", "paging"), ("state", "failed")))] == 1
    assert 40 <= got[("portal_deliveries_undelivered_oldest_seconds", (("purpose", "paging"),))] < 100
    assert got[("portal_events_undispatched", ())] >= 1
    assert got[("portal_events_undispatched_oldest_seconds", ())] >= 0
    by_subscriber = {dict(labels)["subscriber"]: v for (name, labels), v in got.items() if name == "portal_event_deliveries_pending"}
    assert sum(by_subscriber.values()) == pending and "oncall.escalation" not in by_subscriber
    assert got[("portal_event_deliveries_failed", (("subscriber", "oncall.escalation"),))] == 1
    assert 25 <= got[("portal_event_deliveries_pending_oldest_seconds", ())] < 100
