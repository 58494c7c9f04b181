"""/api/v1/postmortems/, /api/v1/action-items/ and /api/v1/metrics/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from postmortems import services
from postmortems.models import ActionItem, Postmortem

from .conftest import fill_required

pytestmark = pytest.mark.django_db


def test_create_postmortem_by_hand_and_read_it(responder_api, resolved):
    incident = resolved("P3")
    due = (timezone.now() + timedelta(days=2)).isoformat()
    response = responder_api.post("/api/v1/postmortems/", {"incident": incident.number, "due_at": due, "template": "Root cause analysis (RCA)"},
                                  format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] == incident.number and body["status"] == "draft" and body["template"] == "Root cause analysis (RCA)"
    assert body["sections"][0]["key"] == "executive-summary" and "**Severity:** P3 Low" in body["sections"][0]["body"]
    assert responder_api.get(f"/api/v1/postmortems/{incident.number}/").json()["id"] == incident.number
    listing = responder_api.get("/api/v1/postmortems/", {"status": "draft"}).json()
    assert [p["id"] for p in listing["results"]] == [incident.number]


def test_create_rejects_past_due_date_with_the_error_format(responder_api, resolved):
    incident = resolved("P3")
    response = responder_api.post("/api/v1/postmortems/", {"incident": incident.number, "due_at": "2020-01-01T00:00:00Z"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"status": 400, "code": "invalid", "message": "due_at: The due date is in the past; choose a later one.",
                               "errors": {"due_at": ["The due date is in the past; choose a later one."]}}
    assert not Postmortem.objects.exists()


def test_viewer_cannot_create_or_publish(viewer_api, postmortem):
    number = postmortem.incident.number
    assert viewer_api.get(f"/api/v1/postmortems/{number}/").status_code == 200
    assert viewer_api.post("/api/v1/postmortems/", {"incident": number}, format="json").status_code == 403
    assert viewer_api.post(f"/api/v1/postmortems/{number}/publish/", {}, format="json").status_code == 403


def test_edit_submit_publish_flow_and_read_only_after(responder_api, postmortem, responder):
    number = postmortem.incident.number
    response = responder_api.patch(f"/api/v1/postmortems/{number}/", {"sections": {"root-cause": "Expired cert"}, "reviewers": ["responder2"]},
                                   format="json")
    assert response.status_code == 200, response.content
    assert response.json()["reviewers"] == ["responder2"]
    assert responder_api.post(f"/api/v1/postmortems/{number}/publish/", {}, format="json").status_code == 409
    assert responder_api.post(f"/api/v1/postmortems/{number}/submit/").json()["status"] == "in_review"
    response = responder_api.post(f"/api/v1/postmortems/{number}/publish/", {}, format="json")
    assert response.status_code == 400 and "Users affected" in response.json()["message"]
    fill_required(postmortem, responder)
    response = responder_api.post(f"/api/v1/postmortems/{number}/publish/", {"public_summary": "Fixed."}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "published" and response.json()["public_summary"] == "Fixed."
    response = responder_api.patch(f"/api/v1/postmortems/{number}/", {"title": "x"}, format="json")
    assert response.status_code == 409 and "read-only" in response.json()["message"]
    md = responder_api.get(f"/api/v1/postmortems/{number}/markdown/")
    assert md.status_code == 200 and b"## Root cause" in md.content


def test_action_items_create_filter_update(responder_api, postmortem, responder, outsider):
    incident = postmortem.incident
    due = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = responder_api.post("/api/v1/action-items/", {
        "incident": incident.number, "title": "Alert on expiry", "owner": "responder", "due_date": due, "category": "detection",
        "priority": "high", "ticket_url": "https://tracker.example.com/T-1",
    }, format="json")
    assert response.status_code == 201, response.content
    item = response.json()
    assert item["postmortem"] == incident.number and item["overdue"] is False and item["status"] == "open"
    outsider.is_active = False
    outsider.save()
    response = responder_api.post("/api/v1/action-items/", {"incident": incident.number, "title": "x", "owner": "outsider"}, format="json")
    assert response.status_code == 400 and response.json()["errors"]["owner"][0].endswith("is not an active user; choose someone else.")
    response = responder_api.post("/api/v1/action-items/", {"incident": incident.number, "title": "x", "due_date": "2020-01-01"}, format="json")
    assert response.status_code == 400 and "due_date" in response.json()["errors"]
    assert ActionItem.objects.count() == 1
    late = services.action_item_create(incident=incident, title="Late", owner=responder, due_date=timezone.localdate(), by=responder)
    ActionItem.objects.filter(pk=late.pk).update(due_date=timezone.localdate() - timedelta(days=1))
    assert [i["title"] for i in responder_api.get("/api/v1/action-items/", {"overdue": "true"}).json()["results"]] == ["Late"]
    assert [i["title"] for i in responder_api.get("/api/v1/action-items/", {"owner": "me", "category": "detection"}).json()["results"]] == ["Alert on expiry"]
    response = responder_api.patch(f"/api/v1/action-items/{item['id']}/", {"status": "done"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "done" and response.json()["completed_at"]


def test_action_item_list_has_constant_queries(responder_api, postmortem, responder, django_assert_max_num_queries):
    for i in range(15):
        services.action_item_create(incident=postmortem.incident, title=f"item {i}", owner=responder, by=responder)
    responder_api.get("/api/v1/action-items/")
    with django_assert_max_num_queries(8):
        assert len(responder_api.get("/api/v1/action-items/").json()["results"]) == 15


def test_metrics_endpoint_and_schema(viewer_api, resolved):
    incident = resolved("P1")
    today = timezone.localdate()
    body = viewer_api.get("/api/v1/metrics/", {"since": (today - timedelta(days=6)).isoformat(), "until": today.isoformat()}).json()
    assert body["incidents"] == 1 and body["range"]["until"] == today.isoformat()
    p1 = next(r for r in body["by_severity"] if r["severity"] == "P1")
    assert p1["incidents"] == 1 and p1["mttr_seconds"] == pytest.approx((incident.resolved_at - incident.declared_at).total_seconds(), abs=0.2)
    assert p1["mttr_target_seconds"] == 4 * 3600 and body["detection"]["alert_target"] == 0.8
    bad = viewer_api.get("/api/v1/metrics/", {"since": "2026-02-10", "until": "2026-02-01"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    schema = viewer_api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/v1/metrics/" in schema["paths"] and "/api/v1/postmortems/" in schema["paths"] and "/api/v1/action-items/" in schema["paths"]
    ref = schema["paths"]["/api/v1/metrics/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/Metrics")
    assert "mtbf_by_service" in schema["components"]["schemas"]["Metrics"]["properties"]


def test_idempotency_key_creates_one_action_item(responder_api, postmortem):
    body = {"incident": postmortem.incident.number, "title": "Alert on expiry"}
    first = responder_api.post("/api/v1/action-items/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = responder_api.post("/api/v1/action-items/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true" and second.json()["id"] == first.json()["id"]
    assert ActionItem.objects.count() == 1


def test_admin_pages_for_templates_postmortems_and_items(client, admin_user, postmortem):
    client.force_login(admin_user)
    for url in ("/admin/postmortems/postmortemtemplate/", "/admin/postmortems/postmortemtemplate/add/",
                f"/admin/postmortems/postmortemtemplate/{postmortem.template.pk}/change/", "/admin/postmortems/postmortem/",
                f"/admin/postmortems/postmortem/{postmortem.pk}/change/", "/admin/postmortems/actionitem/", "/admin/postmortems/severitytemplate/"):
        assert client.get(url).status_code == 200, url
