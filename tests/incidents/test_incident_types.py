"""Incident types as data: seeded from the procedures, chosen when declaring (page and API),
changed later through a service (timeline, checklist, escalation re-planned by oncall), set by
alert rules, and configured through the API."""

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from incidents import services
from incidents.exceptions import InvalidInput, InvalidTransition
from incidents.integrations.services import configuration as integrations
from incidents.models import EventKind, Incident, IncidentType, Severity

from .factories import ServiceFactory, declare

pytestmark = pytest.mark.django_db


def _type(key):
    return IncidentType.objects.get(key=key)


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_procedures_types_are_seeded():
    keys = set(IncidentType.objects.values_list("key", flat=True))
    assert {"service-outage", "performance-degradation", "security", "data-loss", "third-party-outage", "drill"} <= keys
    security = _type("security")
    assert not security.public and security.postmortem_required and security.default_severity.key == "P0"
    assert ("Notify Legal and PR", "comms_lead") in security.checklist_items.values_list("text", "owner_role")
    drill = _type("drill")
    assert drill.is_drill and not drill.may_be_public


def test_declaring_with_a_type_takes_its_severity_checklist_and_roles(responder):
    incident = services.incident_declare(title="Odd logins", incident_type=_type("security"), by=responder)
    assert incident.severity.key == "P0" and incident.type.key == "security"
    items = {i.text: i.owner_role for i in incident.checklist.all()}
    assert items["Preserve evidence (logs, snapshots, access records)"] == "tech_lead"
    assert "Acknowledge the alert within the target" in items  # the severity's own lines stay
    declared = incident.timeline.get(kind=EventKind.DECLARED)
    assert declared.data["type"] == "security" and "Security incident" in declared.message
    assert incident.postmortem_required


def test_neither_severity_nor_typed_default_is_refused(responder):
    with pytest.raises(InvalidInput) as err:
        services.incident_declare(title="x", by=responder)
    assert err.value.field == "severity"


def test_declare_form_with_a_type_and_the_page_shows_it(responder):
    client = _client(responder)
    page = client.get("/incidents/new/").content.decode()
    assert "Security incident / suspected data breach" in page
    response = client.post("/incidents/new/", {"title": "Leaked key", "type": _type("security").pk, "detection_source": "staff"}, follow=True)
    assert response.status_code == 200
    incident = Incident.objects.get(title="Leaked key")
    assert incident.type.key == "security" and incident.severity.key == "P0"
    html = response.content.decode()
    assert "Security incident / suspected data breach" in html
    assert "needs: <strong>Technical lead, Communications lead</strong>" in html  # the commander is the declarer
    assert "(Communications lead)" in html  # checklist owner


def test_change_type_on_the_page_and_the_api(responder, responder_api, viewer_api):
    incident = declare(by=responder, severity="P2")
    response = _client(responder).post(f"/incidents/{incident.number}/type/", {"type": _type("data-loss").pk, "reason": "rows gone"}, follow=True)
    assert response.status_code == 200 and "Type is now Data loss" in response.content.decode()
    event = incident.timeline.get(kind=EventKind.TYPE_CHANGED)
    assert event.actor == responder and event.data == {"from": None, "to": "data-loss"} and "rows gone" in event.message
    assert incident.checklist.filter(text="Stop further writes to the affected data", owner_role="tech_lead").exists()
    url = f"/api/v1/incidents/{incident.number}/type/"
    assert viewer_api.post(url, {"type": "security"}, format="json").status_code == 403
    response = responder_api.post(url, {"type": "security"}, format="json")
    assert response.status_code == 200 and response.json()["type"] == "security"
    assert responder_api.post(url, {"type": "security"}, format="json").status_code == 409
    assert responder_api.post(url, {"type": "no-such"}, format="json").status_code == 400
    assert responder_api.post(url, {"type": None}, format="json").json()["type"] is None


def test_a_drill_stays_a_drill_and_a_real_incident_stays_real(responder):
    real = declare(by=responder)
    with pytest.raises(InvalidInput):
        services.incident_change_type(incident=real, incident_type=_type("drill"), by=responder)
    drill = services.incident_declare(title="Game day", incident_type=_type("drill"), by=responder)
    with pytest.raises(InvalidInput):
        services.incident_change_type(incident=drill, incident_type=_type("security"), by=responder)
    with pytest.raises(InvalidTransition):
        services.incident_change_type(incident=drill, incident_type=_type("drill"), by=responder)


def test_declare_through_the_api_with_a_type(responder_api):
    response = responder_api.post("/api/v1/incidents/", {"title": "Provider down", "type": "third-party-outage"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["type"] == "third-party-outage" and body["severity"] == "P2" and body["is_drill"] is False
    security = responder_api.post("/api/v1/incidents/", {"title": "Leak", "type": "security"}, format="json").json()
    assert security["missing_roles"] == ["commander", "tech_lead", "comms_lead"]
    listed = responder_api.get("/api/v1/incidents/", {"type": "security"}).json()["results"]
    assert [i["id"] for i in listed] == [security["id"]]
    assert responder_api.get("/api/v1/incidents/", {"is_drill": "true"}).json()["results"] == []
    assert responder_api.post("/api/v1/incidents/", {"title": "x"}, format="json").status_code == 400
    assert responder_api.post("/api/v1/incidents/", {"title": "x", "type": "nope"}, format="json").status_code == 400


def test_types_configured_through_the_api(admin_api, viewer_api, responder):
    body = {"key": "ddos", "name": "DDoS", "default_severity": "P1", "public": True, "required_roles": ["commander"],
            "checklist": [{"text": "Enable rate limiting at the edge", "owner_role": "tech_lead", "position": 0}]}
    assert viewer_api.post("/api/v1/incident-types/", body, format="json").status_code == 403
    response = admin_api.post("/api/v1/incident-types/", body, format="json")
    assert response.status_code == 201, response.content
    ddos = _type("ddos")
    assert ddos.checklist_items.get().owner_role == "tech_lead"
    bad = admin_api.post("/api/v1/incident-types/", {**body, "key": "x", "name": "X", "required_roles": ["pilot"]}, format="json")
    assert bad.status_code == 400
    drill = admin_api.post("/api/v1/incident-types/", {"key": "gd", "name": "Game day", "is_drill": True, "public": True}, format="json")
    assert drill.status_code == 400 and "public" in drill.content.decode()
    assert admin_api.patch("/api/v1/incident-types/ddos/", {"checklist": []}, format="json").status_code == 200
    assert not ddos.checklist_items.exists()
    services.incident_declare(title="Flood", incident_type=ddos, by=responder)
    assert admin_api.delete("/api/v1/incident-types/ddos/").status_code == 409  # in use: make it inactive
    assert admin_api.patch("/api/v1/incident-types/ddos/", {"is_active": False}, format="json").status_code == 200
    assert [t["key"] for t in viewer_api.get("/api/v1/incident-types/", {"is_active": "true"}).json()["results"]].count("ddos") == 0


def test_alert_rules_set_the_type_like_the_severity(api_for, admin_user):
    service = ServiceFactory(name="Auth", slug="auth")
    integration, key = integrations.integration_create(
        name="Webhook", service=service, kind="webhook", default_severity=Severity.objects.get(key="P3"),
        severity_rules=[{"match": {"category": "security"}, "severity": "P1", "type": "security"},
                        {"match": {"severity": "warning"}, "severity": "P2"}])
    client = api_for(None)
    response = client.post(f"/api/v1/integrations/{key}/webhook/",
                           {"title": "Impossible travel", "fingerprint": "a1", "category": "security"}, format="json")
    assert response.status_code in (200, 201, 202), response.content
    incident = Incident.objects.get(title="Impossible travel")
    assert incident.type.key == "security" and incident.severity.key == "P1"
    client.post(f"/api/v1/integrations/{key}/webhook/", {"title": "Disk", "fingerprint": "b2", "severity": "warning"}, format="json")
    assert Incident.objects.get(title="Disk").type is None
    with pytest.raises(InvalidInput):
        integrations.integration_update(integration=integration, by=admin_user, severity_rules=[{"match": {"a": "b"}, "type": "nope"}])


def test_the_admin_writes_types_through_the_service(admin_user):
    client = _client(admin_user)
    prefix = "checklist_items"
    form = {
        "key": "ddos", "name": "DDoS", "description": "", "default_severity": Severity.objects.get(key="P1").pk,
        "public": "on", "required_roles": '["commander"]', "position": 7, "is_active": "on",
        f"{prefix}-TOTAL_FORMS": 1, f"{prefix}-INITIAL_FORMS": 0, f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000,
        f"{prefix}-0-text": "Enable rate limiting at the edge", f"{prefix}-0-owner_role": "tech_lead", f"{prefix}-0-position": 0,
    }
    response = client.post("/admin/incidents/incidenttype/add/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    ddos = IncidentType.objects.get(key="ddos")
    assert ddos.checklist_items.get().owner_role == "tech_lead"
    messages = list(LogEntry.objects.filter(object_id=str(ddos.pk)).values_list("change_message", flat=True))
    assert any("checklist item added" in m for m in messages)
    bad = client.post("/admin/incidents/incidenttype/add/", {**form, "key": "gd", "name": "Game day", "is_drill": "on"})
    assert bad.status_code == 200 and "never appears on the status page" in bad.content.decode()
