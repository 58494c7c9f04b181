from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import services
from incidents.exceptions import InvalidInput, InvalidTransition
from incidents.models import EventKind, Incident, IncidentStatus, Role, TimelineEvent, Visibility

from .factories import ServiceFactory, declare

pytestmark = pytest.mark.django_db


def kinds(incident):
    return list(incident.timeline.order_by("pk").values_list("kind", flat=True))


def test_declare_numbers_incidents_per_day_and_writes_timeline(responder, django_capture_on_commit_callbacks):
    api = ServiceFactory(slug="api", name="API")
    with django_capture_on_commit_callbacks() as callbacks:
        first = declare(by=responder, services=[api])
    second = declare(title="Another", by=responder)
    today = timezone.localdate().strftime("%Y%m%d")
    assert first.number == f"INC-{today}-001"
    assert second.number == f"INC-{today}-002"
    assert list(first.services.all()) == [api]
    event = first.timeline.get()
    assert event.kind == EventKind.DECLARED and event.actor == responder and event.dispatched_at is None
    # the dispatch is enqueued after commit: one batch, whatever queues its subscribers use
    assert len(callbacks) == 1
    assert first.checklist.count() == first.severity.checklist_items.count() > 0


def test_declare_rejects_blank_title_and_future_start(responder, sev):
    with pytest.raises(InvalidInput) as exc:
        declare(title="  ", by=responder)
    assert exc.value.field == "title"
    with pytest.raises(InvalidInput):
        declare(by=responder, started_at=timezone.now() + timedelta(hours=1))
    assert Incident.objects.count() == 0


def test_declare_rejects_inactive_severity(responder, sev):
    p3 = sev("P3")
    p3.is_active = False
    p3.save()
    with pytest.raises(InvalidInput):
        declare(severity="P3", by=responder)


def test_acknowledge_rejects_second_acknowledgement(responder, responder2):
    incident = declare(by=responder)
    services.incident_acknowledge(incident=incident, by=responder)
    with pytest.raises(InvalidTransition):
        services.incident_acknowledge(incident=incident, by=responder2)
    incident.refresh_from_db()
    assert incident.acknowledged_by == responder
    assert kinds(incident) == [EventKind.DECLARED, EventKind.ACKNOWLEDGED]


def test_status_moves_record_identified_mitigated_and_resolved_times(responder):
    incident = declare(by=responder)
    services.incident_change_status(incident=incident, status=IncidentStatus.IDENTIFIED, by=responder)
    services.incident_change_status(incident=incident, status=IncidentStatus.MONITORING, by=responder)
    services.incident_resolve(incident=incident, by=responder, summary="Rolled back", root_cause_tag="bad-deploy")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED
    assert incident.acknowledged_at and incident.identified_at and incident.mitigated_at and incident.resolved_at
    assert incident.resolution_summary == "Rolled back" and incident.root_cause_tag == "bad-deploy"
    assert kinds(incident) == [EventKind.DECLARED, EventKind.STATUS_CHANGED, EventKind.MITIGATED, EventKind.RESOLVED]
    assert incident.version == 3


def test_resolve_rejects_resolved_incident_and_reopen_works(responder):
    incident = declare(by=responder)
    services.incident_resolve(incident=incident, by=responder)
    with pytest.raises(InvalidTransition):
        services.incident_resolve(incident=incident, by=responder)
    with pytest.raises(InvalidTransition):
        services.incident_acknowledge(incident=incident, by=responder)
    services.incident_reopen(incident=incident, by=responder, reason="It came back")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.INVESTIGATING and incident.resolved_at is None
    assert kinds(incident)[-1] == EventKind.REOPENED


def test_reopened_incident_asks_for_a_new_acknowledgement_and_keeps_the_first_for_mtta(responder, responder2):
    from incidents.selectors import ack_clock

    incident = declare(by=responder)
    services.incident_acknowledge(incident=incident, by=responder)
    services.incident_resolve(incident=incident, by=responder)
    incident.refresh_from_db()
    first_ack = incident.acknowledged_at
    services.incident_reopen(incident=incident, by=responder2, reason="Errors are back")
    incident.refresh_from_db()
    assert not incident.is_acknowledged and incident.reopened_at
    clock = ack_clock(incident)
    assert not clock.acknowledged and clock.due_at == incident.reopened_at + incident.severity.ack_target
    services.incident_acknowledge(incident=incident, by=responder2)
    incident.refresh_from_db()
    assert incident.is_acknowledged
    assert incident.acknowledged_at == first_ack and incident.acknowledged_by == responder  # MTTA keeps the first
    with pytest.raises(InvalidTransition):
        services.incident_acknowledge(incident=incident, by=responder2)
    assert kinds(incident)[-2:] == [EventKind.REOPENED, EventKind.ACKNOWLEDGED]


def test_same_status_is_an_invalid_transition(responder):
    incident = declare(by=responder)
    with pytest.raises(InvalidTransition):
        services.incident_change_status(incident=incident, status=IncidentStatus.INVESTIGATING, by=responder)
    with pytest.raises(InvalidInput):
        services.incident_change_status(incident=incident, status="exploded", by=responder)


def test_severity_change_adds_missing_checklist_items(responder, sev):
    incident = declare(severity="P3", by=responder)
    before = incident.checklist.count()
    event = services.incident_change_severity(incident=incident, severity=sev("P0"), by=responder, reason="Spreading")
    incident.refresh_from_db()
    assert incident.severity.key == "P0"
    assert incident.checklist.count() > before
    assert event.data == {"from": "P3", "to": "P0", "from_rank": 3, "to_rank": 0}
    assert "raised" in event.message
    with pytest.raises(InvalidTransition):
        services.incident_change_severity(incident=incident, severity=sev("P0"), by=responder)


def test_roles_one_holder_each_and_responders(responder, responder2, outsider):
    incident = declare(by=responder)
    services.incident_assign_role(incident=incident, role=Role.COMMANDER, user=responder, by=responder)
    event = services.incident_assign_role(incident=incident, role=Role.COMMANDER, user=responder2, by=responder)
    assert "was Responder" in event.message
    assert list(incident.members.filter(role=Role.COMMANDER).values_list("user__username", flat=True)) == ["responder2"]
    services.incident_add_responder(incident=incident, user=outsider, by=responder)
    with pytest.raises(InvalidTransition):
        services.incident_add_responder(incident=incident, user=outsider, by=responder)
    outsider.is_active = False
    outsider.save()
    with pytest.raises(InvalidInput):
        services.incident_assign_role(incident=incident, role=Role.SCRIBE, user=outsider, by=responder)
    services.incident_unassign_role(incident=incident, role=Role.COMMANDER, by=responder)
    assert not incident.members.filter(role=Role.COMMANDER).exists()


def test_backdated_note_sorts_before_declaration(responder):
    incident = declare(by=responder)
    earlier = timezone.now() - timedelta(minutes=30)
    services.incident_add_note(incident=incident, body="Deploy went out", by=responder, occurred_at=earlier)
    first = incident.timeline.order_by("occurred_at", "pk").first()
    assert first.kind == EventKind.NOTE and first.data["backdated"] is True
    with pytest.raises(InvalidInput):
        services.incident_add_note(incident=incident, body="later", by=responder, occurred_at=timezone.now() + timedelta(days=1))
    with pytest.raises(InvalidInput):
        services.incident_add_note(incident=incident, body="   ", by=responder)


def test_post_update_can_change_status(responder):
    incident = declare(by=responder)
    update = services.incident_post_update(
        incident=incident, body="Found it", visibility=Visibility.PUBLIC, status=IncidentStatus.IDENTIFIED, by=responder
    )
    assert update.status == IncidentStatus.IDENTIFIED and update.visibility == Visibility.PUBLIC
    assert kinds(incident)[-2:] == [EventKind.STATUS_CHANGED, EventKind.STATUS_UPDATE]


def test_checklist_tick_is_recorded_but_not_dispatched(responder):
    incident = declare(by=responder)
    item = incident.checklist.first()
    services.checklist_set_done(item=item, done=True, by=responder)
    item.refresh_from_db()
    assert item.done_at and item.done_by == responder
    event = TimelineEvent.objects.get(incident=incident, kind=EventKind.CHECKLIST)
    assert event.dispatched_at is not None
