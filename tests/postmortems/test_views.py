"""Staff pages: each renders, changes state only through the services, and shows errors clearly."""

from datetime import timedelta

import pytest
from django.utils import timezone

from postmortems import services
from postmortems.models import ActionItem, Postmortem

from .conftest import fill_required

pytestmark = pytest.mark.django_db


def test_incident_page_offers_a_postmortem_and_creates_one(client, resolved, responder):
    incident = resolved("P2")
    client.force_login(responder)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "Start a postmortem" in page and "Add action item" in page
    response = client.post(f"/postmortems/new/{incident.number}/", {"due_at": (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")})
    pm = Postmortem.objects.get(incident=incident)
    assert response.status_code == 302 and response["Location"] == pm.get_absolute_url()
    assert pm.owner == incident.members.get(role="commander").user


def test_create_page_shows_past_due_date_error_and_saves_nothing(client, resolved, responder):
    incident = resolved("P2")
    client.force_login(responder)
    response = client.post(f"/postmortems/new/{incident.number}/", {"due_at": "2020-01-01T10:00"})
    assert response.status_code == 400
    assert "The due date is in the past" in response.content.decode()
    assert not Postmortem.objects.exists()


def test_viewer_can_read_but_not_create(client, resolved, viewer):
    incident = resolved("P2")
    client.force_login(viewer)
    assert "Start a postmortem" not in client.get(incident.get_absolute_url()).content.decode()
    assert client.post(f"/postmortems/new/{incident.number}/", {}).status_code == 403
    assert client.get("/postmortems/").status_code == 200


def test_outsider_is_refused(client, postmortem, outsider):
    client.force_login(outsider)
    assert client.get(postmortem.get_absolute_url()).status_code == 403
    assert client.get("/reports/metrics/").status_code == 403


def test_sections_preview_renders_sanitised_markdown_without_saving(client, postmortem, responder):
    client.force_login(responder)
    url = f"/postmortems/{postmortem.incident.number}/sections/"
    response = client.post(url, {"section-root-cause": "**Expired** cert <script>alert(1)</script>", "preview": "1"})
    page = response.content.decode()
    assert response.status_code == 200 and "Preview, not saved" in page
    assert "<strong>Expired</strong>" in page and "<script>alert(1)" not in page
    assert postmortem.sections.get(key="root-cause").body == ""
    response = client.post(url, {"section-root-cause": "**Expired** cert", "save": "1"})
    assert response.status_code == 302
    assert postmortem.sections.get(key="root-cause").body == "**Expired** cert"


def test_publish_refusal_names_what_is_missing(client, postmortem, responder):
    client.force_login(responder)
    number = postmortem.incident.number
    services.action_item_create(incident=postmortem.incident, title="Add alert", by=responder)
    assert client.post(f"/postmortems/{number}/submit/").status_code == 302
    response = client.post(f"/postmortems/{number}/publish/", follow=True)
    page = response.content.decode()
    assert "Fill in the required section(s) before publishing: Users affected, Root cause." in page
    postmortem.refresh_from_db()
    assert postmortem.status == "in_review"
    fill_required(postmortem, responder)
    page = client.post(f"/postmortems/{number}/publish/", follow=True).content.decode()
    assert "“Add alert” has no owner and no due date" in page


def test_published_postmortem_is_read_only_printable_and_exportable(client, postmortem, responder):
    fill_required(postmortem, responder)
    services.action_item_create(incident=postmortem.incident, title="Add alert", owner=responder, due_date=timezone.localdate(), by=responder)
    services.postmortem_submit_for_review(postmortem=postmortem, by=responder)
    client.force_login(responder)
    number = postmortem.incident.number
    response = client.post(f"/postmortems/{number}/publish/", {"public_summary": "We rolled back a bad deploy."})
    assert response.status_code == 302
    page = client.get(postmortem.get_absolute_url()).content.decode()
    assert "read-only" in page and "<textarea name=\"section-" not in page
    response = client.post(f"/postmortems/{number}/sections/", {"section-root-cause": "changed", "save": "1"}, follow=True)
    assert "published and read-only" in response.content.decode()
    assert postmortem.sections.get(key="root-cause").body == "Text for Root cause"
    printable = client.get(f"/postmortems/{number}/print/").content.decode()
    assert "<h2>Root cause</h2>" in printable and "Add alert" in printable
    export = client.get(f"/postmortems/{number}/export.md")
    assert export["Content-Type"].startswith("text/markdown")
    text = export.content.decode()
    assert text.startswith(f"# Postmortem: {postmortem.incident.title}") and "## Impact" in text and "### Users affected" in text
    assert "**Add alert**" in text


def test_timeline_picker_rebuilds_the_section(client, postmortem, responder):
    client.force_login(responder)
    declared = postmortem.incident.timeline.get(kind="declared")
    client.post(f"/postmortems/{postmortem.incident.number}/timeline/", {"events": [declared.pk]})
    assert postmortem.sections.get(key="timeline").body.count("- **") == 1


def test_details_form_rejects_inactive_reviewer(client, postmortem, responder, outsider):
    outsider.is_active = False
    outsider.save()
    client.force_login(responder)
    data = {"title": "T", "owner": responder.pk, "due_at": (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "reviewers": [outsider.pk]}
    response = client.post(f"/postmortems/{postmortem.incident.number}/details/", data)
    assert response.status_code == 400 and "not an active user" in response.content.decode()
    postmortem.refresh_from_db()
    assert postmortem.title != "T"


def test_action_item_pages_and_filters(client, postmortem, responder, responder2):
    client.force_login(responder)
    incident = postmortem.incident
    due = (timezone.localdate() + timedelta(days=5)).isoformat()
    response = client.post(f"/action-items/new/{incident.number}/", {
        "title": "Alert on cert expiry", "owner": responder.pk, "due_date": due, "category": "detection", "priority": "high",
    })
    assert response.status_code == 302
    mine = ActionItem.objects.get()
    services.action_item_create(incident=incident, title="Write runbook", owner=responder2, category="documentation", by=responder)
    overdue = services.action_item_create(incident=incident, title="Late thing", owner=responder, due_date=timezone.localdate(), by=responder)
    ActionItem.objects.filter(pk=overdue.pk).update(due_date=timezone.localdate() - timedelta(days=1))
    page = client.get("/action-items/", {"owner": "me"}).content.decode()
    assert "Alert on cert expiry" in page and "Late thing" in page and "Write runbook" not in page
    page = client.get("/action-items/", {"category": "documentation"}).content.decode()
    assert "Write runbook" in page and "Alert on cert expiry" not in page
    page = client.get("/action-items/", {"overdue": "on"}).content.decode()
    assert "Late thing" in page and "Alert on cert expiry" not in page
    page = client.get("/action-items/", {"status": "done"}).content.decode()
    assert "No action items." in page
    dashboard = client.get("/").content.decode()
    assert "My action items" in dashboard and "Alert on cert expiry" in dashboard and "Write runbook" not in dashboard
    response = client.post(f"/action-items/{mine.pk}/", {
        "title": "Alert on cert expiry", "owner": responder.pk, "due_date": due, "category": "detection", "priority": "high", "status": "done",
    })
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == "done" and mine.completed_at


def test_action_item_form_refuses_past_due_date(client, postmortem, responder):
    client.force_login(responder)
    response = client.post(f"/action-items/new/{postmortem.incident.number}/", {
        "title": "x", "due_date": "2020-01-01", "category": "detection", "priority": "high",
    })
    assert response.status_code == 400 and "The due date is in the past" in response.content.decode()
    assert not ActionItem.objects.exists()


def test_metrics_page_has_charts_tables_and_range(client, resolved, viewer):
    resolved("P1")
    client.force_login(viewer)
    page = client.get("/reports/metrics/").content.decode()
    for needle in ('id="chart-mttr"', 'id="chart-weekly-severity"', 'id="chart-detection"', 'id="table-severity"',
                   'id="table-weekly-severity"', 'id="table-mtbf"', "Download CSV", "declared in"):
        assert needle in page, needle
    page = client.get("/reports/metrics/", {"since": "2026-03-10", "until": "2026-03-01"}).content.decode()
    assert "The start of the range is after its end." in page


def test_prometheus_gauges(client, postmortem, responder):
    item = services.action_item_create(incident=postmortem.incident, title="x", owner=responder, due_date=timezone.localdate(), by=responder)
    ActionItem.objects.filter(pk=item.pk).update(due_date=timezone.localdate() - timedelta(days=1))
    Postmortem.objects.filter(pk=postmortem.pk).update(due_at=timezone.now() - timedelta(hours=1))
    body = client.get("/metrics").content.decode()
    assert "portal_action_items_overdue 1.0" in body and "portal_postmortems_overdue 1.0" in body
