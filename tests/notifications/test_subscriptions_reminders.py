"""Stakeholder subscriptions (real time / hourly digest, severity filter) and update-cadence reminders."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from delivery import outbox
from delivery.models import Delivery, DeliveryStatus
from incidents import catalog
from incidents import services as incident_services
from incidents.events import run_subscribers
from incidents.exceptions import InvalidInput
from incidents.models import Incident, Role, Severity, TimelineEvent, Visibility
from oncall.notifications import reminders, services
from oncall.notifications import tasks as reminders_task
from oncall.notifications.models import UpdateReminder
from tests.incidents.factories import declare

from .factories import email_method

pytestmark = pytest.mark.django_db
S = DeliveryStatus


def dispatch(incident):
    """Hand the incident's undelivered events to the subscribers, as the outbox relay does."""
    for event in TimelineEvent.objects.filter(incident=incident, dispatched_at__isnull=True).order_by("pk"):
        run_subscribers(event)
        TimelineEvent.objects.filter(pk=event.pk).update(dispatched_at=timezone.now())


def deliver_due():
    for row in Delivery.objects.filter(status=S.PENDING, due_at__lte=timezone.now()):
        outbox.deliver(row.pk)


def test_realtime_subscription_gets_matching_severities_once(receiver, responder):
    sub = services.subscription_create(name="Execs", kind="slack", target=f"{receiver.url}/execs", frequency="realtime",
                                       severities=Severity.objects.filter(key__in=["P0", "P1"]))
    incident = declare(by=responder, severity="P1", title="Payments failing")
    low = declare(by=responder, severity="P3", title="Typo on the footer")
    dispatch(incident)
    dispatch(low)
    run_subscribers(incident.timeline.get(kind="declared"))  # redelivered event: nothing new
    assert Delivery.objects.filter(purpose="stakeholders", destination_id=sub.pk).count() == 1
    deliver_due()
    [req] = receiver.wait_for(1, "/execs")
    assert "Payments failing" in req.json()["text"]

    incident_services.incident_post_update(incident=incident, body="Rolled back the deploy.", by=responder)
    dispatch(incident)
    deliver_due()
    reqs = receiver.wait_for(2, "/execs")
    assert "Rolled back the deploy." in reqs[1].json()["blocks"][1]["text"]["text"]


def test_email_list_subscription_reaches_every_address(smtp_server, responder):
    services.subscription_create(name="Support", kind="email", target="a@example.com, b@example.com", frequency="realtime")
    incident = declare(by=responder, severity="P2")
    dispatch(incident)
    deliver_due()
    [mail] = smtp_server.wait_for(1)
    assert sorted(mail.recipients) == ["a@example.com", "b@example.com"]
    assert "/ack/" not in mail.part("text/plain")  # stakeholders get no acknowledge link


def test_hourly_digest_runs_while_open_and_closes_on_resolution(receiver, responder):
    sub = services.subscription_create(name="Leads", kind="teams", target=f"{receiver.url}/leads", frequency="hourly")
    incident = declare(by=responder, severity="P1", title="Latency")
    dispatch(incident)
    [first] = Delivery.objects.filter(purpose="stakeholders", destination_id=sub.pk)
    assert first.status == S.PENDING and first.step == 1
    assert timedelta(minutes=59) < first.due_at - timezone.now() <= timedelta(hours=1)
    deliver_due()
    assert receiver.requests == []  # nothing before the hour

    incident_services.incident_add_note(incident=incident, body="Found a slow query", by=responder)
    dispatch(incident)
    Delivery.objects.filter(pk=first.pk).update(due_at=timezone.now())
    deliver_due()
    [req] = receiver.wait_for(1, "/leads")
    card = req.json()["attachments"][0]["content"]
    text = card["body"][1]["inlines"][0]["text"]
    assert "Found a slow query" in text and "declared" in text.lower()
    second = Delivery.objects.get(purpose="stakeholders", destination_id=sub.pk, step=2)
    assert second.status == S.PENDING and second.due_at > timezone.now() + timedelta(minutes=59)

    incident_services.incident_resolve(incident=incident, by=responder, summary="Index added")
    dispatch(incident)
    deliver_due()
    reqs = receiver.wait_for(2, "/leads")
    assert "Resolved" in reqs[1].json()["attachments"][0]["content"]["body"][0]["inlines"][0]["text"]
    Delivery.objects.filter(pk=second.pk).update(due_at=timezone.now())
    deliver_due()
    second.refresh_from_db()
    assert second.status == S.CANCELLED  # nothing new after the closing digest
    assert not Delivery.objects.filter(purpose="stakeholders", destination_id=sub.pk, status=S.PENDING).exists()


def test_webhook_kind_is_not_a_stakeholder_channel():
    with pytest.raises(InvalidInput):
        services.subscription_create(name="x", kind="webhook", target="http://127.0.0.1/x", frequency="realtime")


def test_reminder_goes_to_comms_lead_when_no_update_within_cadence(responder, responder2, admin_user, sev):
    catalog.severity_update(severity=sev("P1"), by=admin_user, first_notice_within=None)  # the cadence alone
    incident = declare(by=admin_user, severity="P1", commander=responder)  # P1: an update every 60 min
    incident_services.incident_assign_role(incident=incident, role=Role.COMMS_LEAD, user=responder2, by=admin_user)
    email_method(responder2)
    email_method(responder)
    dispatch(incident)
    reminder = UpdateReminder.objects.get(incident=incident)
    assert reminder.due_at == incident.declared_at + timedelta(minutes=60)

    assert reminders.sweep(now=timezone.now()) == 0  # not due yet
    later = incident.declared_at + timedelta(minutes=61)
    assert reminders.sweep(now=later) == 1
    assert reminders.sweep(now=later) == 0  # claimed once
    [row] = Delivery.objects.filter(dedup_key__startswith="reminder:")
    assert row.user == responder2
    assert row.message["title"].startswith("Status update due")
    assert "60 minutes" in row.message["body"]
    reminder.refresh_from_db()
    assert reminder.sequence == 1 and reminder.due_at == later + timedelta(minutes=60)


def test_status_update_moves_the_reminder_and_resolution_ends_it(responder):
    incident = declare(by=responder, severity="P0")  # every 30 min; declarer is the fallback recipient
    email_method(responder)
    dispatch(incident)
    incident_services.incident_post_update(incident=incident, body="Investigating", by=responder)
    dispatch(incident)
    update = incident.updates.get()
    reminder = UpdateReminder.objects.get(incident=incident)
    assert reminder.due_at == update.created_at + timedelta(minutes=30)
    assert reminders.sweep(now=update.created_at + timedelta(minutes=29)) == 0
    assert reminders.sweep(now=update.created_at + timedelta(minutes=31)) == 1
    assert Delivery.objects.get(dedup_key__startswith="reminder:").user == responder

    incident_services.incident_resolve(incident=incident, by=responder, summary="done")
    dispatch(incident)
    reminder.refresh_from_db()
    assert reminder.status == "done"
    assert reminders.sweep(now=timezone.now() + timedelta(days=1)) == 0


def test_no_reminders_for_severities_without_periodic_updates_or_first_notice(responder):
    incident = declare(by=responder, severity="P3")
    dispatch(incident)
    assert not UpdateReminder.objects.filter(incident=incident, status="pending").exists()


def test_first_notice_is_reminded_until_posted_then_the_cadence_takes_over(responder, responder2, admin_user):
    """P0: initial notice within 5 min of the declaration, then an update every 30 min. Declared
    and updated over HTTP; the reminder is the durable row the beat sweep fires."""
    client = Client()
    client.force_login(admin_user)
    response = client.post("/incidents/new/", {"title": "Checkout down", "severity": Severity.objects.get(key="P0").pk,
                                               "detection_source": "alert", "summary": "", "impact": "No orders"})
    assert response.status_code == 302
    incident = Incident.objects.get()
    incident_services.incident_assign_role(incident=incident, role=Role.COMMS_LEAD, user=responder2, by=admin_user)
    email_method(responder2)
    dispatch(incident)
    reminder = UpdateReminder.objects.get(incident=incident)
    assert reminder.due_at == incident.declared_at + timedelta(minutes=5)
    assert reminders.sweep(now=incident.declared_at + timedelta(minutes=4)) == 0
    late = incident.declared_at + timedelta(minutes=6)
    assert reminders.sweep(now=late) == 1
    assert reminders.sweep(now=late) == 0  # claimed once
    [row] = Delivery.objects.filter(dedup_key__startswith="reminder:")
    assert row.user == responder2 and row.message["title"].startswith("Initial notice due")
    assert "within 5 minutes" in row.message["body"]
    reminder.refresh_from_db()
    assert reminder.due_at == late + timedelta(minutes=5)  # again until the notice is out

    response = client.post(f"{incident.get_absolute_url()}update/", {"body": "We are investigating.", "visibility": Visibility.PUBLIC})
    assert response.status_code == 302
    dispatch(incident)
    update = incident.updates.get()
    reminder.refresh_from_db()
    assert reminder.due_at == update.created_at + timedelta(minutes=30)  # the cadence now
    assert reminders.sweep(now=update.created_at + timedelta(minutes=29)) == 0
    assert Delivery.objects.filter(dedup_key__startswith="reminder:").count() == 1


def test_initial_and_resolution_policy_reminds_the_initial_notice_only(responder):
    """P2 ("initial + resolution"): the initial notice within the hour is reminded; once posted, no cadence."""
    incident = declare(by=responder, severity="P2")
    email_method(responder)
    dispatch(incident)
    reminder = UpdateReminder.objects.get(incident=incident)
    assert reminder.status == "pending" and reminder.due_at == incident.declared_at + timedelta(minutes=60)
    assert reminders_task.update_reminders_sweep_task() == 0  # the beat's task: nothing due yet
    assert reminders.sweep(now=incident.declared_at + timedelta(minutes=61)) == 1
    assert Delivery.objects.get(dedup_key__startswith="reminder:").message["title"].startswith("Initial notice due")
    incident_services.incident_post_update(incident=incident, body="Investigating slow search", by=responder)
    dispatch(incident)
    reminder.refresh_from_db()
    assert reminder.status == "done"


def test_severity_raised_into_the_filter_starts_the_hourly_digest(receiver, responder, sev):
    sub = services.subscription_create(name="Execs hourly", kind="slack", target=f"{receiver.url}/x", frequency="hourly",
                                       severities=[sev("P0")])
    incident = declare(by=responder, severity="P2")
    dispatch(incident)
    assert not Delivery.objects.filter(purpose="stakeholders", destination_id=sub.pk).exists()
    incident_services.incident_change_severity(incident=incident, severity=sev("P0"), by=responder, reason="wider impact")
    dispatch(incident)
    dispatch(incident)
    [row] = Delivery.objects.filter(purpose="stakeholders", destination_id=sub.pk)
    assert row.kind == "subscription_digest" and row.status == S.PENDING
