"""Postmortems: opened on resolution, filled in from the incident, published by the rules."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.exceptions import InvalidInput, InvalidTransition
from incidents.models import Severity, TimelineEvent
from incidents.tasks import dispatch_event_task
from postmortems import services
from postmortems.models import ActionItem, Postmortem, PostmortemSection, PostmortemTemplate, SeverityTemplate

from .conftest import fill_required

pytestmark = pytest.mark.django_db


def _dispatch_resolved(incident):
    event = incident.timeline.get(kind="resolved")
    dispatch_event_task(event.pk)
    return event


@pytest.mark.parametrize(("severity", "expected_due"), [("P0", timedelta(hours=48)), ("P1", timedelta(hours=48))])
def test_resolving_required_severity_opens_postmortem_owned_by_commander(resolved, responder2, severity, expected_due):
    incident = resolved(severity)
    _dispatch_resolved(incident)
    pm = Postmortem.objects.get(incident=incident)
    assert pm.owner == responder2
    assert pm.due_at == incident.resolved_at + expected_due
    assert pm.automatic and pm.status == "draft"
    assert pm.template.name == "Standard postmortem"
    assert incident.timeline.filter(kind="postmortem.created").count() == 1


@pytest.mark.parametrize("severity", ["P2", "P3"])
def test_resolving_optional_severity_opens_nothing(resolved, severity):
    incident = resolved(severity)
    _dispatch_resolved(incident)
    assert not Postmortem.objects.filter(incident=incident).exists()


def test_due_follows_the_severity_setting(resolved):
    Severity.objects.filter(key="P2").update(postmortem_required=True, postmortem_due=timedelta(days=7))
    incident = resolved("P2")
    _dispatch_resolved(incident)
    assert Postmortem.objects.get(incident=incident).due_at == incident.resolved_at + timedelta(days=7)


def test_owner_falls_back_to_whoever_resolved(resolved, responder):
    incident = resolved("P1", commander=False)
    _dispatch_resolved(incident)
    assert Postmortem.objects.get(incident=incident).owner == responder


def test_subscriber_is_idempotent(resolved):
    incident = resolved("P0")
    event = incident.timeline.get(kind="resolved")
    services.postmortem_create_on_resolution(event)
    services.postmortem_create_on_resolution(event)
    TimelineEvent.objects.filter(pk=event.pk).update(dispatched_at=None)
    dispatch_event_task(event.pk)
    assert Postmortem.objects.filter(incident=incident).count() == 1
    assert incident.timeline.filter(kind="postmortem.created").count() == 1


def test_template_fill_in_from_the_incident(resolved, responder2):
    incident = resolved("P1")
    pm = services.postmortem_create(incident=incident, due_at=timezone.now() + timedelta(days=1))
    sections = {s.key: s for s in pm.sections.all()}
    assert list(sections) == [
        "summary", "impact-users", "impact-services", "impact-data-loss", "impact-revenue", "timeline", "root-cause",
        "contributing-factors", "went-well", "could-improve", "lessons", "action-items",
    ]
    assert {s.group for s in sections.values() if s.key.startswith("impact-")} == {"Impact"}
    summary = sections["summary"].body
    assert "**Severity:** P1 High" in summary
    assert f"**Incident commander:** {responder2.get_full_name()}" in summary
    assert "**Services:** API" in summary
    assert "**Duration:**" in summary and "Rolled back" in summary
    assert "- API" in sections["impact-services"].body and "Half of checkouts fail." in sections["impact-services"].body
    timeline = sections["timeline"].body
    for text in ("Declared P1 High", "Acknowledged by", "Status Investigating → Identified: Bad deploy", "Resolved: Rolled back"):
        assert text in timeline
    assert "is incident commander" not in timeline  # role changes are not key events by default
    assert sections["root-cause"].body == "" and sections["root-cause"].required


def test_severity_chooses_its_template(resolved):
    rca = PostmortemTemplate.objects.get(name="Root cause analysis (RCA)")
    SeverityTemplate.objects.update_or_create(severity=Severity.objects.get(key="P0"), defaults={"template": rca})
    incident = resolved("P0")
    _dispatch_resolved(incident)
    pm = Postmortem.objects.get(incident=incident)
    assert [s.title for s in pm.sections.all()] == [
        "Executive summary", "Timeline", "Root cause", "Contributing factors", "Impact assessment", "Corrective actions",
        "Prevention strategies",
    ]


def test_rebuild_timeline_from_chosen_events(postmortem, responder):
    events = list(postmortem.incident.timeline.order_by("occurred_at", "pk"))
    chosen = [e for e in events if e.kind in ("declared", "resolved")]
    section = services.postmortem_rebuild_timeline(postmortem=postmortem, event_ids=[e.pk for e in chosen], by=responder)
    assert section.body.count("\n") == 1
    assert "Declared P2 Medium" in section.body and "Resolved: Rolled back" in section.body


def test_rebuild_timeline_refuses_events_of_another_incident(postmortem, resolved, responder):
    other = resolved("P3", title="Other")
    with pytest.raises(InvalidInput):
        services.postmortem_rebuild_timeline(postmortem=postmortem, event_ids=[other.timeline.first().pk], by=responder)


def test_manual_creation_rejects_a_past_due_date(resolved, responder):
    incident = resolved("P2")
    with pytest.raises(InvalidInput) as exc:
        services.postmortem_create(incident=incident, by=responder, due_at=timezone.now() - timedelta(hours=1))
    assert exc.value.field == "due_at"
    assert not Postmortem.objects.exists() and not PostmortemSection.objects.exists()
    assert not incident.timeline.filter(kind="postmortem.created").exists()


def test_manual_creation_rejects_an_inactive_owner(resolved, responder, outsider):
    outsider.is_active = False
    outsider.save()
    with pytest.raises(InvalidInput) as exc:
        services.postmortem_create(incident=resolved("P2"), by=responder, owner=outsider, due_at=timezone.now() + timedelta(days=1))
    assert exc.value.field == "owner" and "not an active user" in exc.value.message
    assert not Postmortem.objects.exists()


def test_second_postmortem_for_an_incident_is_refused(postmortem, responder):
    with pytest.raises(InvalidTransition):
        services.postmortem_create(incident=postmortem.incident, by=responder, due_at=timezone.now() + timedelta(days=1))


def test_publish_needs_review_first(postmortem, responder):
    fill_required(postmortem, responder)
    with pytest.raises(InvalidTransition, match="review"):
        services.postmortem_publish(postmortem=postmortem, by=responder)


def test_publish_names_the_missing_required_sections(postmortem, responder):
    services.postmortem_submit_for_review(postmortem=postmortem, by=responder)
    with pytest.raises(InvalidInput) as exc:
        services.postmortem_publish(postmortem=postmortem, by=responder, public_summary="x")
    assert "Users affected" in exc.value.message and "Root cause" in exc.value.message
    assert "Summary" not in exc.value.message.split(":", 1)[1]  # pre-filled from the incident
    postmortem.refresh_from_db()
    assert postmortem.status == "in_review" and postmortem.public_summary == ""


def test_publish_names_action_items_without_owner_or_due_date(postmortem, responder):
    fill_required(postmortem, responder)
    services.action_item_create(incident=postmortem.incident, title="Add alert", by=responder)
    services.action_item_create(incident=postmortem.incident, title="Write runbook", owner=responder, by=responder)
    services.action_item_create(incident=postmortem.incident, title="Fine", owner=responder, due_date=timezone.localdate(), by=responder)
    wont = services.action_item_create(incident=postmortem.incident, title="Dropped", by=responder)
    services.action_item_update(item=wont, status="wont_do", by=responder)
    services.postmortem_submit_for_review(postmortem=postmortem, by=responder)
    with pytest.raises(InvalidInput) as exc:
        services.postmortem_publish(postmortem=postmortem, by=responder)
    message = exc.value.message
    assert "“Add alert” has no owner and no due date" in message
    assert "“Write runbook” has no due date" in message
    assert "Fine" not in message and "Dropped" not in message
    postmortem.refresh_from_db()
    assert postmortem.status == "in_review"


def test_publish_records_public_summary_event_and_locks_the_postmortem(postmortem, responder, settings):
    settings.SITE_URL = "https://portal.example.com"
    fill_required(postmortem, responder)
    services.postmortem_submit_for_review(postmortem=postmortem, by=responder)
    services.postmortem_publish(postmortem=postmortem, by=responder, public_summary="A bad deploy; rolled back.")
    postmortem.refresh_from_db()
    assert postmortem.status == "published" and postmortem.published_at and postmortem.published_by == responder
    event = postmortem.incident.timeline.get(kind="postmortem.published")
    assert event.data["public_summary"] == "A bad deploy; rolled back."
    assert event.data["url"] == f"https://portal.example.com/postmortems/{postmortem.incident.number}/"
    with pytest.raises(InvalidTransition, match="read-only"):
        services.postmortem_update(postmortem=postmortem, by=responder, sections={"root-cause": "changed"})
    with pytest.raises(InvalidTransition):
        services.postmortem_rebuild_timeline(postmortem=postmortem, event_ids=[], by=responder)
    with pytest.raises(InvalidTransition):
        services.action_item_create(incident=postmortem.incident, postmortem=postmortem, title="late", by=responder)
    assert postmortem.sections.get(key="root-cause").body == "Text for Root cause"


def test_publish_without_public_summary_records_empty_text(postmortem, responder):
    fill_required(postmortem, responder)
    services.postmortem_submit_for_review(postmortem=postmortem, by=responder)
    services.postmortem_publish(postmortem=postmortem, by=responder)
    assert postmortem.incident.timeline.get(kind="postmortem.published").data["public_summary"] == ""


def test_update_rejects_unknown_section_and_saves_nothing(postmortem, responder):
    with pytest.raises(InvalidInput):
        services.postmortem_update(postmortem=postmortem, by=responder, sections={"root-cause": "x", "nope": "y"}, title="New title")
    postmortem.refresh_from_db()
    assert postmortem.title.startswith("Postmortem:") and postmortem.sections.get(key="root-cause").body == ""


def test_update_rejects_past_due_date(postmortem, responder):
    with pytest.raises(InvalidInput) as exc:
        services.postmortem_update(postmortem=postmortem, by=responder, due_at=timezone.now() - timedelta(minutes=1))
    assert exc.value.field == "due_at"


def test_action_item_rejects_inactive_owner_and_past_due_date(postmortem, responder, outsider):
    outsider.is_active = False
    outsider.save()
    with pytest.raises(InvalidInput) as exc:
        services.action_item_create(incident=postmortem.incident, title="x", owner=outsider, by=responder)
    assert exc.value.field == "owner"
    with pytest.raises(InvalidInput) as exc:
        services.action_item_create(incident=postmortem.incident, title="x", due_date=timezone.localdate() - timedelta(days=1), by=responder)
    assert exc.value.field == "due_date"
    assert not ActionItem.objects.exists()
    item = services.action_item_create(incident=postmortem.incident, title="x", owner=responder, by=responder)
    with pytest.raises(InvalidInput):
        services.action_item_update(item=item, owner=outsider, by=responder)
    item.refresh_from_db()
    assert item.owner == responder


def test_action_item_done_sets_completed_at_and_records_timeline(postmortem, responder):
    item = services.action_item_create(incident=postmortem.incident, title="Add alert", owner=responder, by=responder)
    assert item.postmortem == postmortem
    item = services.action_item_update(item=item, status="done", by=responder)
    assert item.completed_at is not None
    assert postmortem.incident.timeline.filter(kind="action_item.updated", data__action_item=item.pk).exists()
    item = services.action_item_update(item=item, status="open", by=responder)
    assert item.completed_at is None


def test_crlf_from_a_browser_is_not_an_edit(postmortem, responder):
    timeline = postmortem.sections.get(key="timeline").body
    services.postmortem_update(postmortem=postmortem, by=responder, sections={"timeline": timeline.replace("\n", "\r\n")})
    assert not postmortem.incident.timeline.filter(kind="postmortem.edited").exists()
