"""The admin edits postmortems and action items through their services: the incident's timeline
says who changed what, and a published postmortem stays read-only."""

import pytest

from postmortems import services
from postmortems.models import ActionItem

pytestmark = pytest.mark.django_db


def _form(pm, **overrides):
    sections = list(pm.sections.order_by("position", "pk"))
    data = {"title": pm.title, "owner": pm.owner_id or "", "due_at_0": f"{pm.due_at:%Y-%m-%d}", "due_at_1": f"{pm.due_at:%H:%M:%S}",
            "review_meeting_at_0": "", "review_meeting_at_1": "", "review_meeting_place": "", "public_summary": pm.public_summary,
            "sections-TOTAL_FORMS": len(sections), "sections-INITIAL_FORMS": len(sections),
            "action_items-TOTAL_FORMS": 0, "action_items-INITIAL_FORMS": 0}
    for i, section in enumerate(sections):
        data[f"sections-{i}-id"] = section.pk
        data[f"sections-{i}-postmortem"] = pm.pk
        data[f"sections-{i}-body"] = section.body
    data.update(overrides)
    return data


def test_postmortem_edited_in_the_admin_is_on_the_incident_timeline(client, admin_user, postmortem):
    client.force_login(admin_user)
    first = postmortem.sections.order_by("position", "pk").first()
    response = client.post(f"/admin/postmortems/postmortem/{postmortem.pk}/change/", _form(
        postmortem, title="Expired certificate", **{"sections-0-body": "What we learned."}))
    assert response.status_code == 302, response.text[-3000:]
    first.refresh_from_db()
    assert first.body == "What we learned."
    edits = list(postmortem.incident.timeline.filter(kind="postmortem.edited", actor=admin_user).values_list("data", flat=True))
    assert [e["changed"] for e in edits] == [["title"], [first.title.lower()]]


def test_action_item_added_in_the_admin_goes_through_the_service(client, admin_user, postmortem, responder):
    client.force_login(admin_user)
    response = client.post("/admin/postmortems/actionitem/add/", {
        "incident": postmortem.incident.pk, "postmortem": "", "title": "Alert on expiry", "description": "", "owner": "",
        "due_date": "2020-01-01", "category": "detection", "priority": "high", "status": "open", "ticket_url": ""})
    assert response.status_code == 200 and "due date" in response.text.lower()  # the service refuses a past due date
    assert not ActionItem.objects.exists()
    response = client.post("/admin/postmortems/actionitem/add/", {
        "incident": postmortem.incident.pk, "postmortem": "", "title": "Alert on expiry", "description": "", "owner": responder.pk,
        "due_date": "", "category": "detection", "priority": "high", "status": "open", "ticket_url": ""})
    assert response.status_code == 302
    item = ActionItem.objects.get()
    assert item.postmortem == postmortem and item.created_by == admin_user
    assert postmortem.incident.timeline.filter(kind="action_item.created", actor=admin_user).exists()
    assert services.action_items_overdue_for(responder).count() == 0
