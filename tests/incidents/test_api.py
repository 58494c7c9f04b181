import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from incidents import services
from incidents.models import ApiToken, Incident, IncidentStatus, TimelineEvent

from .factories import ServiceFactory, declare

pytestmark = pytest.mark.django_db
URL = "/api/v1/incidents/"


def detail(incident, action=""):
    return f"{URL}{incident.number}/{action + '/' if action else ''}"


def test_anonymous_is_rejected_with_one_error_format():
    response = APIClient().get(URL)
    assert response.status_code == 401
    assert response.json() == {"status": 401, "code": "not_authenticated", "message": "Authentication credentials were not provided."}


def test_bad_and_revoked_tokens_are_rejected(responder):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token nope")
    assert client.get(URL).status_code == 401
    out = __import__("io").StringIO()
    call_command("create_api_token", "responder", stdout=out)
    key = out.getvalue().strip()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(URL).status_code == 200
    token = ApiToken.objects.get(user=responder)
    assert token.key_hash != key and key not in token.key_hash  # only the hash is stored
    token.revoked_at = token.created_at
    token.save()
    assert client.get(URL).status_code == 401


def test_create_api_token_command_rejects_unknown_user(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_api_token", "ghost")


def test_permission_matrix(viewer_api, responder_api, admin_api, api_for, outsider):
    incident = declare()
    outsider_api = api_for(outsider)
    # read
    for client in (viewer_api, responder_api, admin_api):
        assert client.get(URL).status_code == 200
        assert client.get(detail(incident)).status_code == 200
    assert outsider_api.get(URL).status_code == 403
    # act
    assert viewer_api.post(detail(incident, "acknowledge")).status_code == 403
    assert outsider_api.post(detail(incident, "acknowledge")).status_code == 403
    assert responder_api.post(detail(incident, "acknowledge")).status_code == 200
    # configure
    new_sev = {"key": "SEV1", "label": "Critical", "rank": 10}
    assert responder_api.post("/api/v1/severities/", new_sev, format="json").status_code == 403
    assert admin_api.post("/api/v1/severities/", new_sev, format="json").status_code == 201
    assert responder_api.post("/api/v1/services/", {"name": "X", "slug": "x"}, format="json").status_code == 403
    assert admin_api.post("/api/v1/services/", {"name": "X", "slug": "x"}, format="json").status_code == 201


def test_declare_through_api(responder_api, responder):
    ServiceFactory(slug="api", name="API")
    response = responder_api.post(URL, {
        "title": "API down", "severity": "P0", "services": ["api"], "impact": "Everything", "detection_source": "monitoring",
        "commander": "responder",
    }, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"].startswith("INC-") and body["severity"] == "P0" and body["services"] == ["api"]
    assert body["status"] == "investigating" and body["declared_by"] == "responder"
    assert {"role": "commander", "user": "responder", "name": "Responder"} in body["members"]
    assert body["url"].endswith(f"/incidents/{body['id']}/")


@pytest.mark.parametrize(("payload", "field"), [
    ({"severity": "P1"}, "title"),
    ({"title": "x"}, "severity"),
    ({"title": "x", "severity": "P9"}, "severity"),
    ({"title": "x" * 201, "severity": "P1"}, "title"),
    ({"title": "x", "severity": "P1", "services": ["nope"]}, "services"),
    ({"title": "x", "severity": "P1", "detection_source": "psychic"}, "detection_source"),
    ({"title": "x", "severity": "P1", "commander": "ghost"}, "commander"),
    ({"title": "x", "severity": "P1", "started_at": "2999-01-01T00:00:00Z"}, "started_at"),
])
def test_declare_bad_input_names_the_field(responder_api, payload, field):
    response = responder_api.post(URL, payload, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["status"] == 400 and field in body["errors"] and body["message"].startswith(field)
    assert Incident.objects.count() == 0


def test_oversized_body_is_a_413_in_the_error_format(responder_api):
    body = '{"title": "' + "x" * 2_000_000 + '", "severity": "P1"}'
    response = responder_api.post(URL, data=body, content_type="application/json")
    assert response.status_code == 413 and response.json()["code"] == "too_large"
    assert Incident.objects.count() == 0


def test_malformed_json_is_a_400(responder_api):
    response = responder_api.post(URL, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_every_action_end_to_end(responder_api, responder, responder2):
    incident = declare(by=responder)
    ok = [
        ("acknowledge", {}),
        ("status", {"status": "identified", "message": "Bad deploy"}),
        ("severity", {"severity": "P0", "reason": "Spreading"}),
        ("roles", {"role": "commander", "user": "responder"}),
        ("roles", {"role": "comms_lead", "user": "responder2"}),
        ("roles", {"role": "comms_lead", "user": None}),
        ("responders", {"user": "responder2"}),
        ("notes", {"body": "Deploy happened earlier", "occurred_at": "2020-01-01T00:00:00Z"}),
        ("updates", {"body": "We are **on it**", "visibility": "public", "status": "monitoring"}),
        ("resolve", {"summary": "Rolled back", "root_cause_tag": "bad-deploy"}),
        ("reopen", {"reason": "Came back"}),
    ]
    for action, payload in ok:
        response = responder_api.post(detail(incident, action), payload, format="json")
        assert response.status_code in (200, 201), (action, response.content)
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.INVESTIGATING and incident.severity.key == "P0"
    kinds = list(TimelineEvent.objects.filter(incident=incident).order_by("pk").values_list("kind", flat=True))
    assert kinds == [
        "declared", "acknowledged", "status_changed", "severity_changed", "role_assigned", "role_assigned",
        "role_removed", "responder_added", "note", "mitigated", "status_update", "resolved", "reopened",
    ]
    timeline = responder_api.get(detail(incident, "timeline")).json()
    assert timeline[0]["kind"] == "note" and timeline[0]["occurred_at"].startswith("2020-01-01")
    updates = responder_api.get(detail(incident, "updates")).json()
    assert updates[0]["visibility"] == "public" and updates[0]["status"] == "monitoring"


def test_invalid_transitions_are_409(responder_api, responder):
    incident = declare(by=responder)
    assert responder_api.post(detail(incident, "acknowledge")).status_code == 200
    response = responder_api.post(detail(incident, "acknowledge"))
    assert response.status_code == 409 and response.json()["code"] == "invalid_transition"
    assert responder_api.post(detail(incident, "resolve"), {}, format="json").status_code == 200
    assert responder_api.post(detail(incident, "resolve"), {}, format="json").status_code == 409
    assert responder_api.post(detail(incident, "status"), {"status": "bogus"}, format="json").status_code == 400


def test_patch_edits_details_and_records_it(responder_api, responder):
    incident = declare(by=responder)
    response = responder_api.patch(detail(incident), {"title": "New title", "impact": "Less"}, format="json")
    assert response.status_code == 200 and response.json()["title"] == "New title"
    assert TimelineEvent.objects.filter(incident=incident, kind="edited").exists()
    assert responder_api.patch(detail(incident), {"title": ""}, format="json").status_code == 400


def test_unknown_incident_is_404(responder_api):
    response = responder_api.get(f"{URL}INC-19990101-001/")
    assert response.status_code == 404 and response.json()["status"] == 404


def test_filters_and_search(viewer_api):
    ServiceFactory(slug="db", name="Database")
    from incidents.models import Service

    a = declare(title="Database down", severity="P0", services=[Service.objects.get(slug="db")])
    declare(title="Typo on pricing page", severity="P3")
    assert [i["id"] for i in viewer_api.get(URL, {"severity": "P0"}).json()["results"]] == [a.number]
    assert [i["id"] for i in viewer_api.get(URL, {"service": "db"}).json()["results"]] == [a.number]
    assert [i["id"] for i in viewer_api.get(URL, {"search": "pricing"}).json()["results"]] != [a.number]
    assert viewer_api.get(URL, {"status": "resolved"}).json()["count"] == 0
    assert viewer_api.get(URL, {"declared_after": "not-a-date"}).status_code == 400


def test_list_query_count_is_constant(viewer_api, django_assert_max_num_queries):
    for i in range(30):
        incident = declare(title=f"Incident {i}")
        services.incident_add_link(incident=incident, title="Chat", url="https://chat.example.com/x")
    with django_assert_max_num_queries(10):  # 8, one for every incident's links, one for the groups of restricted ones
        response = viewer_api.get(URL, {"page_size": 25})
    assert response.status_code == 200 and len(response.json()["results"]) == 25


def test_idempotency_key_replays_the_first_response(responder_api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "abc-123"}
    first = responder_api.post(URL, {"title": "Once", "severity": "P2"}, format="json", **headers)
    second = responder_api.post(URL, {"title": "Once", "severity": "P2"}, format="json", **headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert second["Idempotent-Replayed"] == "true"
    assert Incident.objects.count() == 1


def test_schema_and_docs_are_served(viewer_api):
    schema = viewer_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert "/api/v1/incidents/{id}/acknowledge/" in paths
    assert viewer_api.get("/api/docs/").status_code == 200


def test_patch_corrects_the_start_of_impact_up_to_the_declaration(responder_api, responder):
    """The start of impact (where MTTK begins) is set at declaration and may be corrected later;
    after the declaration it is refused with a 400 naming the field."""
    incident = declare(by=responder)
    earlier = incident.declared_at - timedelta(minutes=7)
    response = responder_api.patch(detail(incident), {"started_at": earlier.isoformat()}, format="json")
    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.started_at == earlier
    assert TimelineEvent.objects.get(incident=incident, kind="edited").data == {"fields": ["started_at"]}
    later = incident.declared_at + timedelta(minutes=1)
    response = responder_api.patch(detail(incident), {"started_at": later.isoformat()}, format="json")
    assert response.status_code == 400 and "started_at" in json.dumps(response.json())
    created = responder_api.post(URL, {"title": "Slow search", "severity": "P2", "started_at": earlier.isoformat()}, format="json")
    assert created.status_code == 201 and created.json()["started_at"].startswith(earlier.strftime("%Y-%m-%dT%H:%M"))
