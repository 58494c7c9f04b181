"""The escalation engine through its services: planning, firing once, conditions,
severity changes, reopen, snapshots, round robin, repeats, the sweep, paging by hand."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from delivery import outbox
from delivery.models import Delivery
from incidents import services as core
from incidents.exceptions import InvalidInput
from incidents.integrations.services.configuration import integration_create
from incidents.models import Incident, TimelineEvent
from oncall import handlers
from oncall.models import Escalation, EscalationLevel, EscalationStep, LevelMode, StepStatus
from oncall.notifications.services import contact_method_create
from oncall.services import escalation as engine
from oncall.services.policies import LevelSpec, policy_save
from tests.incidents.factories import declare

from .conftest import Condition, TargetKind, make_policy, make_schedule

pytestmark = pytest.mark.django_db


def deliver_event(incident, kind):
    """Run the subscriber the way the outbox relay does (the worker path is tested separately)."""
    event = TimelineEvent.objects.filter(incident=incident, kind=kind).latest("pk")
    handlers.on_incident_event(event)
    return event


def steps(incident, **kw):
    return list(EscalationStep.objects.filter(escalation__incident=incident, **kw).order_by("round", "level", "slot"))


def fire_due(incident, at):
    return [engine.step_fire(step_id=s.pk, now=at) for s in steps(incident, status=StepStatus.PENDING) if s.due_at <= at]


@pytest.fixture
def ladder(people, service):
    """Level 1: alice (ack, now); level 2: bob (ack, 15 min); level 3: carol (not resolved, 60 min, P0 only)."""
    for user in people.values():
        contact_method_create(user=user, kind="email", target=user.email)
    return make_policy([
        (0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, people["alice"])]),
        (900, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, people["bob"])]),
        (3600, Condition.NOT_RESOLVED, [(TargetKind.USER, people["carol"])], ["P0"]),
    ], service=service)


def test_declared_event_starts_the_services_policy_with_one_step_per_applicable_level(ladder, service):
    incident = declare(severity="P1", services=[service])
    deliver_event(incident, "declared")
    escalation = Escalation.objects.get(incident=incident)
    assert escalation.snapshot["name"] == ladder.name
    planned = steps(incident)
    assert [(s.level, s.condition) for s in planned] == [(0, "acknowledged"), (1, "acknowledged")]  # no P0-only level
    assert planned[1].due_at - escalation.started_at == timedelta(seconds=900)
    assert TimelineEvent.objects.filter(incident=incident, kind="escalation.started").exists()


def test_redelivered_declared_event_starts_the_policy_once(ladder, service):
    incident = declare(severity="P1", services=[service])
    deliver_event(incident, "declared")
    deliver_event(incident, "declared")
    assert Escalation.objects.filter(incident=incident).count() == 1
    assert len(steps(incident)) == 2


def test_incident_without_a_policy_starts_nothing(people):
    incident = declare(severity="P1")
    deliver_event(incident, "declared")
    assert not Escalation.objects.filter(incident=incident).exists()


def test_step_fires_once_notifies_the_target_and_records_the_timeline(ladder, service, people):
    incident = declare(severity="P1", services=[service])
    deliver_event(incident, "declared")
    first = steps(incident)[0]
    assert engine.step_fire(step_id=first.pk) is True
    assert engine.step_fire(step_id=first.pk) is False  # claim twice: nothing
    rows = Delivery.objects.filter(incident=incident)
    assert [(r.user, r.channel) for r in rows] == [(people["alice"], "email")]
    escalation = first.escalation
    assert rows[0].dedup_key == f"esc:{escalation.pk}:0:0:{people['alice'].pk}"
    event = TimelineEvent.objects.get(incident=incident, kind="escalation.notified")
    assert "Level 1: paged Alice" in event.message
    first.refresh_from_db()
    assert first.status == StepStatus.FIRED and first.notified == [people["alice"].pk]


def test_step_not_yet_due_does_not_fire(ladder, service):
    incident = declare(severity="P1", services=[service])
    deliver_event(incident, "declared")
    second = steps(incident)[1]
    assert engine.step_fire(step_id=second.pk) is False
    assert engine.step_fire(step_id=second.pk, now=second.due_at) is True


def test_acknowledging_stops_the_ack_ladder_but_not_the_unresolved_level(ladder, service, people):
    incident = declare(severity="P0", services=[service])
    deliver_event(incident, "declared")
    core.incident_acknowledge(incident=incident, by=people["alice"])
    deliver_event(incident, "acknowledged")
    by_level = {s.level: s.status for s in steps(incident)}
    assert by_level == {0: StepStatus.CANCELLED, 1: StepStatus.CANCELLED, 2: StepStatus.PENDING}
    assert TimelineEvent.objects.filter(incident=incident, kind="escalation.stopped").exists()
    later = timezone.now() + timedelta(hours=2)
    assert fire_due(incident, later) == [True]
    assert list(Delivery.objects.filter(incident=incident).values_list("user__username", flat=True)) == ["carol"]


def test_firing_rechecks_the_condition_when_the_event_has_not_arrived(ladder, service, people):
    incident = declare(severity="P1", services=[service])
    deliver_event(incident, "declared")
    core.incident_acknowledge(incident=incident, by=people["alice"])  # the subscriber has not run yet
    assert fire_due(incident, timezone.now() + timedelta(minutes=20)) == [False, False]
    assert not Delivery.objects.filter(incident=incident).exists()


def test_resolving_stops_everything_and_finishes_the_escalation(ladder, service, people):
    incident = declare(severity="P0", services=[service])
    deliver_event(incident, "declared")
    core.incident_resolve(incident=incident, by=people["alice"], summary="fixed")
    deliver_event(incident, "resolved")
    assert {s.status for s in steps(incident)} == {StepStatus.CANCELLED}
    assert Escalation.objects.get(incident=incident).state == "finished"


def test_mitigating_stops_the_not_mitigated_level(people, service):
    contact_method_create(user=people["dave"], kind="email", target="dave@example.com")
    make_policy([(600, Condition.NOT_MITIGATED, [(TargetKind.USER, people["dave"])]),
                 (600, Condition.NOT_RESOLVED, [(TargetKind.USER, people["dave"])])], service=service)
    incident = declare(severity="P1", services=[service])
    deliver_event(incident, "declared")
    core.incident_change_status(incident=incident, status="monitoring", by=people["dave"])
    deliver_event(incident, "mitigated")
    assert [s.status for s in steps(incident)] == [StepStatus.CANCELLED, StepStatus.PENDING]


def test_severity_change_adds_and_drops_levels(ladder, service, people, sev):
    incident = declare(severity="P1", services=[service])
    deliver_event(incident, "declared")
    core.incident_change_severity(incident=incident, severity=sev("P0"), by=people["alice"])
    deliver_event(incident, "severity_changed")
    assert [(s.level, s.status) for s in steps(incident)] == [(0, "pending"), (1, "pending"), (2, "pending")]
    escalation = Escalation.objects.get(incident=incident)
    assert steps(incident)[2].due_at == escalation.started_at + timedelta(hours=1)
    core.incident_change_severity(incident=incident, severity=sev("P1"), by=people["alice"])
    deliver_event(incident, "severity_changed")
    assert [(s.level, s.status) for s in steps(incident)] == [(0, "pending"), (1, "pending"), (2, "cancelled")]


def test_level_that_applies_late_is_due_at_once_when_its_time_has_passed(ladder, service, people, sev):
    incident = declare(severity="P1", services=[service])
    deliver_event(incident, "declared")
    Escalation.objects.filter(incident=incident).update(started_at=timezone.now() - timedelta(hours=2))
    core.incident_change_severity(incident=incident, severity=sev("P0"), by=people["alice"])
    deliver_event(incident, "severity_changed")
    late = steps(incident)[2]
    assert late.due_at <= timezone.now()


def test_reopen_restarts_the_policy(ladder, service, people):
    incident = declare(severity="P1", services=[service])
    deliver_event(incident, "declared")
    core.incident_resolve(incident=incident, by=people["alice"], summary="x")
    deliver_event(incident, "resolved")
    core.incident_reopen(incident=incident, by=people["alice"], reason="back")
    deliver_event(incident, "reopened")
    escalations = list(Escalation.objects.filter(incident=incident).order_by("pk"))
    assert [e.state for e in escalations] == ["finished", "active"]
    assert len(steps(incident, escalation=escalations[1], status="pending")) == 2  # the old acknowledgement does not count
    core.incident_change_status(incident=incident, status="identified", by=people["alice"])
    deliver_event(incident, "status_changed")
    assert not steps(incident, escalation=escalations[1], status="pending")


def test_acknowledging_a_reopened_incident_stops_the_restarted_ladder(ladder, service, people):
    incident = declare(severity="P1", services=[service])
    deliver_event(incident, "declared")
    core.incident_acknowledge(incident=incident, by=people["alice"])
    deliver_event(incident, "acknowledged")
    core.incident_resolve(incident=incident, by=people["alice"], summary="x")
    deliver_event(incident, "resolved")
    core.incident_reopen(incident=incident, by=people["alice"], reason="back")
    deliver_event(incident, "reopened")
    restarted = Escalation.objects.filter(incident=incident).order_by("pk").last()
    assert steps(incident, escalation=restarted, status="pending")
    core.incident_acknowledge(incident=incident, by=people["bob"])
    deliver_event(incident, "acknowledged")
    assert not steps(incident, escalation=restarted, status="pending")


def test_editing_the_policy_does_not_change_a_running_escalation(ladder, service, people):
    incident = declare(severity="P1", services=[service])
    deliver_event(incident, "declared")
    EscalationLevel.objects.filter(policy=ladder, position=1).update(delay_seconds=10)
    ladder.levels.get(position=1).targets.update(user=people["dave"])
    second = steps(incident)[1]
    assert engine.step_fire(step_id=second.pk, now=second.due_at) is True
    assert list(Delivery.objects.filter(incident=incident).values_list("user__username", flat=True)) == ["bob"]


def test_schedule_target_pages_whoever_is_on_call_and_a_gap_is_recorded(people, service):
    for user in people.values():
        contact_method_create(user=user, kind="email", target=user.email)
    schedule = make_schedule("Ops", [people["bob"]], rotation="daily")
    empty = make_schedule("Future", [people["carol"]], starts_on=timezone.localdate() + timedelta(days=30))
    make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.SCHEDULE, schedule), (TargetKind.SCHEDULE, empty)])], service=service)
    incident = declare(severity="P2", services=[service])
    deliver_event(incident, "declared")
    assert fire_due(incident, timezone.now()) == [True]
    assert list(Delivery.objects.filter(incident=incident).values_list("user__username", flat=True)) == ["bob"]


def test_nobody_on_call_is_recorded_on_the_timeline(people, service):
    empty = make_schedule("Future", [people["carol"]], starts_on=timezone.localdate() + timedelta(days=30))
    make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.SCHEDULE, empty)])], service=service)
    incident = declare(severity="P2", services=[service])
    deliver_event(incident, "declared")
    fire_due(incident, timezone.now())
    assert TimelineEvent.objects.filter(incident=incident, kind="escalation.nobody").exists()
    assert steps(incident)[0].note == "nobody on call"


def test_round_robin_pages_one_target_at_a_time(people, service):
    for user in people.values():
        contact_method_create(user=user, kind="email", target=user.email)
    make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, people["alice"]), (TargetKind.USER, people["bob"]),
                                                  (TargetKind.USER, people["carol"])], [], LevelMode.ROUND_ROBIN)], service=service)
    incident = declare(severity="P2", services=[service])
    deliver_event(incident, "declared")
    planned = steps(incident)
    start = planned[0].escalation.started_at
    assert [(s.slot, s.targets[0]["label"], (s.due_at - start).seconds) for s in planned] == [
        (0, "Alice", 0), (1, "Bob", 60), (2, "Carol", 120)]
    fire_due(incident, start + timedelta(seconds=61))
    assert sorted(Delivery.objects.filter(incident=incident).values_list("user__username", flat=True)) == ["alice", "bob"]


def test_group_targets_notify_all_members_at_once(people, service):
    team = Group.objects.create(name="DBAs")
    for name in ("alice", "bob"):
        people[name].groups.add(team)
        contact_method_create(user=people[name], kind="email", target=people[name].email)
    make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.GROUP, team)])], service=service)
    incident = declare(severity="P2", services=[service])
    deliver_event(incident, "declared")
    fire_due(incident, timezone.now())
    assert sorted(Delivery.objects.filter(incident=incident).values_list("user__username", flat=True)) == ["alice", "bob"]


def test_repeat_runs_the_levels_again_after_the_cycle(ladder, service):
    ladder.repeat = 2
    ladder.save()
    incident = declare(severity="P1", services=[service])
    deliver_event(incident, "declared")
    planned = steps(incident)
    start = planned[0].escalation.started_at
    assert [(s.round, s.level, int((s.due_at - start).total_seconds())) for s in planned] == [
        (0, 0, 0), (0, 1, 900), (1, 0, 4500), (1, 1, 5400), (2, 0, 9000), (2, 1, 9900)]


def test_sweep_fires_overdue_steps_only_once(ladder, service):
    incident = declare(severity="P1", services=[service])
    deliver_event(incident, "declared")
    EscalationStep.objects.filter(escalation__incident=incident, level=0).update(due_at=timezone.now() - timedelta(seconds=30))
    assert engine.sweep() == 1
    assert engine.sweep() == 0
    assert Delivery.objects.filter(incident=incident).count() == 1


def test_the_sweep_sends_the_pages_of_the_steps_it_fires_itself(ladder, service, people, monkeypatch,
                                                                  django_capture_on_commit_callbacks, mailoutbox):
    """A step the fast path missed is late already: its pages go out from the sweep, not
    behind the queue in a task of their own."""
    queued = []
    monkeypatch.setattr(outbox.send_task, "enqueue_many", lambda calls, **kw: queued.extend(calls))
    incident = declare(severity="P1", services=[service])
    deliver_event(incident, "declared")
    EscalationStep.objects.filter(escalation__incident=incident, level=0).update(due_at=timezone.now() - timedelta(seconds=30))
    with django_capture_on_commit_callbacks(execute=True):
        assert engine.sweep() == 1
    assert Delivery.objects.get(incident=incident).status == "sent" and queued == []
    assert [m.to for m in mailoutbox] == [[people["alice"].email]]


def test_page_by_hand(people, service):
    contact_method_create(user=people["dave"], kind="email", target="dave@example.com")
    incident = declare(severity="P2", services=[service])
    escalation = engine.page_manually(incident=incident, by=people["alice"], user=people["dave"], note="need DB help")
    step = escalation.steps.get()
    assert engine.step_fire(step_id=step.pk) is True
    row = Delivery.objects.get(incident=incident)
    assert row.user == people["dave"] and "paged by Alice" in row.message["title"]
    assert TimelineEvent.objects.filter(incident=incident, kind="escalation.manual").exists()


def test_page_by_hand_needs_exactly_one_target(people, service):
    incident = declare(severity="P2", services=[service])
    with pytest.raises(InvalidInput):
        engine.page_manually(incident=incident, by=people["alice"])


def test_an_integration_override_starts_its_own_policy_instead_of_the_services(ladder, service, people, client):
    dba = policy_save(name="DBA rotation", levels=[LevelSpec(targets=[(TargetKind.USER, people["dave"].pk)], delay_seconds=0)])
    integration, key = integration_create(name="Postgres alerts", service=service, kind="alertmanager")
    policy_save(name=dba.name, levels=[LevelSpec(targets=[(TargetKind.USER, people["dave"].pk)], delay_seconds=0)],
                integrations=[integration], policy=dba)
    payload = {
        "version": "4", "groupKey": "{}:{alertname=\"PgDown\"}", "status": "firing", "receiver": "portal", "groupLabels": {},
        "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am", "truncatedAlerts": 0,
        "alerts": [{"status": "firing", "labels": {"alertname": "PgDown"}, "annotations": {}, "startsAt": "2026-01-01T00:00:00Z",
                    "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom", "fingerprint": "abc123"}],
    }
    response = client.post(f"/api/v1/integrations/{key}/alertmanager/", payload, content_type="application/json")
    assert response.status_code in (200, 202), response.content
    incident = Incident.objects.get()
    deliver_event(incident, "declared")
    assert [e.policy_id for e in Escalation.objects.filter(incident=incident)] == [dba.pk]
    # a staff-declared incident on the same service still starts the service's policy
    other = declare(severity="P1", services=[service])
    deliver_event(other, "declared")
    assert [e.policy_id for e in Escalation.objects.filter(incident=other)] == [ladder.pk]


def test_the_pagers_subscriber_fires_the_first_level_and_sends_its_pages_in_its_own_task(
        ladder, service, people, monkeypatch, mailoutbox, django_capture_on_commit_callbacks):
    """handlers.page (what the worker runs for the pager) starts the run, pages level 1 at
    once and sends those pages itself after the commit: no ETA task for the step, no delivery
    task for its pages (under a storm each trip through the broker waits behind the queue).
    The later levels keep their ETA tasks."""
    sent, queued = [], []
    monkeypatch.setattr(engine.step_fire_later, "enqueue_many", lambda calls, **kw: sent.extend(calls))
    monkeypatch.setattr(outbox.send_task, "enqueue_many", lambda calls, **kw: queued.extend(calls))
    incident = declare(severity="P1", services=[service])
    with django_capture_on_commit_callbacks(execute=True):
        handlers.page(TimelineEvent.objects.get(incident=incident, kind="declared"))
    first, second = steps(incident)
    assert first.status == StepStatus.FIRED and first.notified == [people["alice"].pk]
    assert second.status == StepStatus.PENDING
    assert [kwargs["step_id"] for kwargs, _eta in sent] == [second.pk]
    page = Delivery.objects.get(incident=incident, user=people["alice"])
    assert page.status == "sent" and queued == []
    assert [m.to for m in mailoutbox] == [[people["alice"].email]]
