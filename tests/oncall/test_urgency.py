"""Urgency and working hours: a low-urgency incident notifies people in their working hours only
(held until their next working period starts, dropped if acknowledged by then), by their
low-urgency rules; its acknowledge clock counts business hours; "inform" targets are told
without being paged. Through the engine, the delivery layer, the API and the staff pages."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from delivery.models import Delivery
from incidents import services as core
from incidents.audit import audit_history
from incidents.models import Severity, TimelineEvent
from oncall.models import EscalationPolicy, EscalationStep, Profile
from oncall.notifications import purposes, selectors
from oncall.notifications.models import NotificationRule
from oncall.notifications.services import INFORM, LOW_URGENCY, contact_method_create, notification_rule_create
from oncall.services import escalation as engine
from oncall.services.people import person_update
from tests.incidents.factories import declare

from .conftest import Condition, TargetKind, make_policy
from .test_engine import deliver_event

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def next_berlin(hour: int) -> datetime:
    """`hour`:00 Berlin on the next weekday at least a day ahead (so the step is already due)."""
    day = timezone.now().astimezone(BERLIN).date() + timedelta(days=1)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)


@pytest.fixture
def alice_in_berlin(people):
    alice = people["alice"]
    Profile.objects.create(user=alice, time_zone="Europe/Berlin")
    contact_method_create(user=alice, kind="email", target=alice.email)
    return alice


def fire_first_step(incident, at):
    step = EscalationStep.objects.get(escalation__incident=incident, level=0)
    assert engine.step_fire(step_id=step.pk, now=at)
    return step


def test_seeded_next_business_day_severity_is_low_urgency():
    assert Severity.objects.get(key="P3").urgency == "low"
    assert Severity.objects.get(key="P1").urgency == "high"


def test_low_urgency_at_0200_berlin_notifies_at_0900_and_high_urgency_pages_at_once(alice_in_berlin, service):
    make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, alice_in_berlin)])], service=service)
    night = next_berlin(2)
    low = declare("Typo on the pricing page", severity="P3", services=[service])
    high = declare("Checkout down", severity="P1", services=[service])
    for incident in (low, high):
        deliver_event(incident, "declared")
        fire_first_step(incident, night)

    held = Delivery.objects.get(incident=low)
    assert held.kind == LOW_URGENCY and held.status == "pending"
    assert held.due_at == night.replace(hour=9), "held until 09:00 Berlin, the start of alice's working day"
    paged = Delivery.objects.get(incident=high)
    assert paged.kind == "" and paged.due_at == night, "high urgency pages at once, day or night"
    assert "low urgency: in their working hours" in TimelineEvent.objects.get(incident=low, kind="escalation.notified").message


def test_a_held_low_urgency_page_is_dropped_once_acknowledged_and_kept_while_open(alice_in_berlin, service, people):
    make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, alice_in_berlin)])], service=service)
    incident = declare("Slow admin export", severity="P3", services=[service])
    deliver_event(incident, "declared")
    fire_first_step(incident, next_berlin(2))
    held = Delivery.objects.select_related("incident").get(incident=incident)
    assert purposes.paging_cancel_reason(held) == ""
    core.incident_acknowledge(incident=incident, by=people["bob"])
    held = Delivery.objects.select_related("incident").get(incident=incident)
    assert "before the person's working hours began" in purposes.paging_cancel_reason(held)


def test_inside_working_hours_a_low_urgency_incident_notifies_at_once(alice_in_berlin, service):
    make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, alice_in_berlin)])], service=service)
    incident = declare("Minor glitch", severity="P3", services=[service])
    deliver_event(incident, "declared")
    morning = next_berlin(10)
    fire_first_step(incident, morning)
    assert Delivery.objects.get(incident=incident).due_at == morning


def test_low_urgency_uses_the_low_urgency_rules_else_the_high_ones(alice_in_berlin):
    email = alice_in_berlin.contact_methods.get()
    push = contact_method_create(user=alice_in_berlin, kind="email", target="alice-pager@example.com", add_default_rule=False)
    assert selectors.paging_plan(alice_in_berlin, "low") == [(email, 0)]  # no low rule yet: the high ones
    notification_rule_create(user=alice_in_berlin, contact_method=push, delay_minutes=10, urgency="low")
    assert selectors.paging_plan(alice_in_berlin, "low") == [(push, 10)]
    assert selectors.paging_plan(alice_in_berlin, "high") == [(email, 0)]


def test_the_acknowledge_clock_of_a_low_urgency_incident_counts_business_hours(settings, people, service):
    settings.ONCALL_BUSINESS_HOURS = "12345 09:00-17:00"  # in TIME_ZONE (UTC in the tests)
    policy = make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, people["alice"])]),
                          (1800, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, people["bob"])])], service=service)
    wednesday_evening = datetime(2026, 12, 2, 16, 50, tzinfo=ZoneInfo("UTC"))
    low = declare("Cosmetic", severity="P3", services=[service])
    high = declare("Outage", severity="P1", services=[service])
    low_plan = engine.escalation_preview(incident=low, policy=policy, started_at=wednesday_evening)
    high_plan = engine.escalation_preview(incident=high, policy=policy, started_at=wednesday_evening)
    assert [s.due_at for s in high_plan] == [wednesday_evening, wednesday_evening + timedelta(minutes=30)]
    assert [s.due_at for s in low_plan] == [wednesday_evening, datetime(2026, 12, 3, 9, 20, tzinfo=ZoneInfo("UTC"))]


def test_inform_targets_are_told_on_non_phone_methods_without_an_acknowledge_link(people, service):
    alice, bob = people["alice"], people["bob"]
    contact_method_create(user=alice, kind="email", target=alice.email)
    contact_method_create(user=bob, kind="email", target=bob.email)
    phone = contact_method_create(user=bob, kind="sms", target="+44 20 7946 0958")
    type(phone).objects.filter(pk=phone.pk).update(verified_at=timezone.now())
    policy = make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, alice)])], service=service)
    level = policy.levels.get()
    level.targets.create(position=1, kind=TargetKind.USER, user=bob, inform=True)
    incident = declare("Checkout errors", severity="P1", services=[service])
    deliver_event(incident, "declared")
    step = fire_first_step(incident, timezone.now())

    step.refresh_from_db()
    assert step.notified == [alice.pk], "an informed person is not paged"
    told = Delivery.objects.select_related("incident").get(incident=incident, user=bob)
    assert told.kind == INFORM and told.channel == "email", "never the phone"
    message = purposes.paging_compose(told)
    assert "FYI" in message.title and not message.ack_url and not message.actions
    alice_page = Delivery.objects.select_related("incident").get(incident=incident, user=alice)
    assert purposes.paging_compose(alice_page).ack_url
    informed = TimelineEvent.objects.get(incident=incident, kind="escalation.informed")
    assert informed.data["users"] == [bob.pk]


def test_policy_api_and_form_keep_inform_targets(admin_api, people, client, staff):
    body = {"name": "With stakeholders", "levels": [{"delay_seconds": 0, "targets": [
        {"kind": "user", "id": people["alice"].pk}, {"kind": "user", "id": people["bob"].pk, "inform": True}]}]}
    created = admin_api.post("/api/v1/escalation-policies/", body, format="json")
    assert created.status_code == 201, created.content
    assert [t["inform"] for t in created.data["levels"][0]["targets"]] == [False, True]
    policy = EscalationPolicy.objects.get(name="With stakeholders")
    snapshot = engine.policy_snapshot(policy)
    assert [t.get("inform", False) for t in snapshot["levels"][0]["targets"]] == [False, True]
    only_inform = {"name": "Inform only", "levels": [{"delay_seconds": 0, "targets": [
        {"kind": "user", "id": people["bob"].pk, "inform": True}]}]}
    assert admin_api.post("/api/v1/escalation-policies/", only_inform, format="json").status_code == 201
    client.force_login(staff)
    page = client.get(reverse("oncall:policy_edit", args=[policy.pk]))
    assert page.status_code == 200 and 'name="levels-0-inform"' in page.content.decode()


def test_working_hours_through_the_api_with_audit_and_clear_refusals(responder, responder_api):
    ok = responder_api.patch("/api/v1/users/me/", {"working_days": "1234", "working_start": "08:00", "working_end": "16:30",
                                                   "time_zone": "Asia/Tokyo"}, format="json")
    assert ok.status_code == 200, ok.content
    assert (ok.data["working_days"], ok.data["working_start"], ok.data["working_end"]) == ("1234", "08:00", "16:30")
    assert "working hours: Mon, Tue, Wed, Thu 08:00–16:30 (Asia/Tokyo)" in audit_history(responder)[0].change_message
    bad_days = responder_api.patch("/api/v1/users/me/", {"working_days": "89"}, format="json")
    assert bad_days.status_code == 400 and "working_days" in str(bad_days.data)
    same = responder_api.patch("/api/v1/users/me/", {"working_start": "09:00", "working_end": "09:00"}, format="json")
    assert same.status_code == 400 and "different start and end" in str(same.data)
    assert Profile.objects.get(user=responder).working_days == "1234"


def test_notification_rule_api_takes_an_urgency(responder, responder_api):
    method = contact_method_create(user=responder, kind="email", target=responder.email)
    resp = responder_api.post("/api/v1/notification-rules/", {"contact_method": str(method.public_id), "delay_minutes": 0,
                                                              "urgency": "low"}, format="json")
    assert resp.status_code == 201, resp.content
    assert resp.data["urgency"] == "low"
    assert NotificationRule.objects.filter(contact_method=method).count() == 2  # the default high rule and this one
    bad = responder_api.post("/api/v1/notification-rules/", {"contact_method": str(method.public_id), "delay_minutes": 1,
                                                             "urgency": "medium"}, format="json")
    assert bad.status_code == 400 and "urgency" in bad.data["errors"]


def test_working_hours_on_the_staff_pages(client, responder):
    client.force_login(responder)
    saved = client.post(reverse("oncall:my_time_zone"), {"form": "hours", "working_days": ["6", "7"], "working_start": "22:00",
                                                          "working_end": "06:00"})
    assert saved.status_code == 302
    assert Profile.objects.get(user=responder).working_days == "67"
    refused = client.post(reverse("oncall:my_time_zone"), {"form": "hours", "working_start": "09:00", "working_end": "17:00"})
    assert refused.status_code == 400 and "Tick at least one working day." in refused.content.decode()
    person_page = client.get(reverse("notifications:person", args=[responder.pk])).content.decode()
    assert "Working hours: <strong>Sat, Sun 22:00–06:00" in person_page
    assert "Low urgency" in person_page


def test_an_admin_sets_someones_working_hours_through_the_people_service(admin_user, responder):
    person_update(person=responder, by=admin_user, working_days="5", working_start=None, working_end=None)
    assert Profile.objects.get(user=responder).working_days == "5"
    assert "working hours: Fri 09:00–17:00" in audit_history(responder)[0].change_message


@pytest.mark.parametrize("hostile", [{"working_days": "9" * 100_000}, {"working_days": "8"}, {"working_days": "\u202e12"}, {"working_start": "25:00"},
                                     {"working_end": "x" * 10_000}, {"working_days": ["1", {"a": 1}]}])
def test_hostile_working_hours_are_refused_naming_the_field(responder, responder_api, hostile):
    resp = responder_api.patch("/api/v1/users/me/", hostile, format="json")
    assert resp.status_code == 400, resp.content
    assert next(iter(hostile)) in str(resp.data)
    assert not Profile.objects.filter(user=responder).exclude(working_days="12345").exists()


def test_control_characters_in_working_hours_are_dropped_like_in_any_text(responder, responder_api):
    """NUL and other control characters never reach the row (the bounded serializers' rule for
    every text); what is left must still be valid (a bidi override is not a weekday: refused)."""
    resp = responder_api.patch("/api/v1/users/me/", {"working_days": "1\x002", "working_start": "08:00\x00"}, format="json")
    assert resp.status_code == 200, resp.content
    profile = Profile.objects.get(user=responder)
    assert profile.working_days == "12" and profile.working_start.isoformat() == "08:00:00"


def test_hostile_working_hours_in_the_staff_form_are_refused(client, responder):
    client.force_login(responder)
    for data in ({"working_days": ["8"], "working_start": "09:00", "working_end": "17:00"},
                 {"working_days": ["1"], "working_start": "9" * 5000, "working_end": "17:00"},
                 {"working_days": ["1"], "working_start": "09:00", "working_end": "09:00"}):
        resp = client.post(reverse("oncall:my_time_zone"), {"form": "hours", **data})
        assert resp.status_code == 400
    assert not Profile.objects.filter(user=responder).exclude(working_days="12345").exists()
