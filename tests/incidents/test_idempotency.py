"""`Idempotency-Key` on every creating endpoint: each POST of the OpenAPI schema that answers
201 or 202, retried with the same key, creates one object and replays the first answer."""

import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from incidents.integrations.services import configuration as integrations
from incidents.models import Service, StatusUpdate, TimelineEvent
from incidents.statuspage.models import StatusComponent
from oncall.models import Schedule
from oncall.notifications import services as notify
from tests.incidents.factories import ServiceFactory, declare

pytestmark = pytest.mark.django_db

CREATING = {"201", "202"}


def creating_endpoints(client) -> set[str]:
    schema = json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    return {path for path, ops in schema["paths"].items() if "post" in ops and CREATING & set(ops["post"]["responses"])}


def model_count(label):
    return lambda: apps.get_model(label).objects.count()


@pytest.fixture
def world(admin_user, responder, sev):
    """What the creating endpoints refer to, made through the services."""
    service = ServiceFactory(name="Search", slug="search")
    incident = declare(by=responder, services=[service])
    resolved = declare(title="Old outage", by=responder)
    from incidents import services as core

    core.incident_resolve(incident=resolved, by=responder, summary="fixed")
    integration, _key = integrations.integration_create(name="hook", service=service, kind="webhook", default_severity=sev("P2"))
    method = notify.contact_method_create(user=admin_user, kind="email", target="boss@example.com", add_default_rule=False)
    from oncall.services.schedules import schedule_create

    schedule = schedule_create(name="Rota", time_zone="UTC")
    start = timezone.now() + timedelta(days=3)
    return {"service": service, "incident": incident, "resolved": resolved, "integration": integration, "method": method,
            "schedule": schedule, "start": start, "user": responder}


def endpoints(w):
    """path template -> (concrete path, body, count of what it creates)."""
    start = w["start"]
    incident, integration, method = w["incident"], w["integration"], w["method"]
    notes = TimelineEvent.objects.filter(incident=incident, kind="note")
    return {
        "/api/v1/action-items/": ("/api/v1/action-items/", {"incident": incident.number, "title": "Alert on expiry"},
                                  model_count("postmortems.ActionItem")),
        "/api/v1/contact-methods/": ("/api/v1/contact-methods/", {"kind": "email", "target": "pager@example.com"},
                                     model_count("notifications.ContactMethod")),
        "/api/v1/contact-methods/{id}/test/": (f"/api/v1/contact-methods/{method.public_id}/test/", {}, None),
        "/api/v1/escalation-policies/": ("/api/v1/escalation-policies/", {"name": "Default", "levels": [
            {"delay_seconds": 0, "targets": [{"kind": "user", "id": w["user"].pk}]}]}, model_count("oncall.EscalationPolicy")),
        "/api/v1/game-days/": ("/api/v1/game-days/", {"title": "Failover drill", "scenario": "Primary down", "starts_at": start.isoformat(),
                                                       "ends_at": (start + timedelta(hours=2)).isoformat()},
                               model_count("postmortems.GameDay")),
        "/api/v1/incidents/": ("/api/v1/incidents/", {"title": "Broker gone", "severity": "P1"}, model_count("incidents.Incident")),
        "/api/v1/incident-types/": ("/api/v1/incident-types/", {"key": "vendor-api", "name": "Vendor API broke"},
                                    model_count("incidents.IncidentType")),
        "/api/v1/incidents/{id}/links/": (f"/api/v1/incidents/{incident.number}/links/", {"title": "Ticket", "url": "https://tickets.example.com/1"},
                                          incident.links.count),
        "/api/v1/incidents/{id}/notes/": (f"/api/v1/incidents/{incident.number}/notes/", {"body": "looked at it"}, notes.count),
        "/api/v1/incidents/{id}/updates/": (f"/api/v1/incidents/{incident.number}/updates/", {"body": "still on it", "visibility": "internal"},
                                            StatusUpdate.objects.filter(incident=incident).count),
        "/api/v1/integration-maintenances/": ("/api/v1/integration-maintenances/", {
            "integration": str(integration.public_id), "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()},
            model_count("integrations.IntegrationMaintenance")),
        "/api/v1/integrations/": ("/api/v1/integrations/", {"name": "n", "service": "search", "kind": "webhook"},
                                  model_count("integrations.Integration")),
        "/api/v1/integrations/{id}/test-alert/": (f"/api/v1/integrations/{integration.public_id}/test-alert/", {"open_incident": False},
                                                  model_count("integrations.Alert")),
        "/api/v1/maintenances/": ("/api/v1/maintenances/", {"title": "Upgrade", "services": ["search"], "scheduled_for": start.isoformat(),
                                                            "scheduled_until": (start + timedelta(hours=1)).isoformat()},
                                  model_count("incidents.Maintenance")),
        "/api/v1/notification-rules/": ("/api/v1/notification-rules/", {"contact_method": str(method.public_id), "delay_minutes": 5},
                                        model_count("notifications.NotificationRule")),
        "/api/v1/overrides/": ("/api/v1/overrides/", {"schedule": w["schedule"].pk, "user": w["user"].pk, "start": start.isoformat(),
                                                      "end": (start + timedelta(hours=2)).isoformat()}, model_count("oncall.Override")),
        "/api/v1/postmortems/": ("/api/v1/postmortems/", {"incident": w["resolved"].number}, model_count("postmortems.Postmortem")),
        "/api/v1/runbooks/": ("/api/v1/runbooks/", {"identifier": "RB-1", "title": "Restart", "steps": "restart it"},
                              model_count("integrations.Runbook")),
        "/api/v1/schedules/": ("/api/v1/schedules/", {"name": "API rota", "time_zone": "Europe/Berlin"}, Schedule.objects.count),
        "/api/v1/services/": ("/api/v1/services/", {"name": "Billing", "slug": "billing"}, Service.objects.count),
        "/api/v1/severities/": ("/api/v1/severities/", {"key": "SEV9", "label": "Odd", "rank": 90}, model_count("incidents.Severity")),
        "/api/v1/stakeholder-subscriptions/": ("/api/v1/stakeholder-subscriptions/", {
            "name": "Execs", "kind": "email", "target": "execs@example.com", "frequency": "hourly"},
            model_count("notifications.StakeholderSubscription")),
        "/api/v1/status-components/": ("/api/v1/status-components/", {"service": "search", "name": "Search"}, StatusComponent.objects.count),
        "/api/v1/users/": ("/api/v1/users/", {"username": "newbie", "email": "newbie@example.com", "invite": False},
                           model_count("auth.User")),
    }


def test_every_creating_endpoint_replays_a_retried_post(admin_api, world):
    table = endpoints(world)
    assert creating_endpoints(admin_api) == set(table), "a creating endpoint without an idempotency case here"
    for template, (path, body, count) in table.items():
        if count is None:  # the test send: count what the notification list shows
            def count():
                return admin_api.get("/api/v1/notifications/").json()["count"]
        before = count()
        first = admin_api.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=f"retry-{template}")
        assert 200 <= first.status_code < 300, (template, first.content)
        second = admin_api.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=f"retry-{template}")
        assert second.status_code == first.status_code, (template, second.content)
        assert second["Idempotent-Replayed"] == "true", template
        assert count() == before + 1, template
        third = admin_api.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=f"other-{template}")
        assert "Idempotent-Replayed" not in third, template


def test_a_retried_integration_post_mints_one_key_and_does_not_keep_it(admin_api, world):
    body = {"name": "Retried", "service": "search", "kind": "alertmanager"}
    first = admin_api.post("/api/v1/integrations/", body, format="json", HTTP_IDEMPOTENCY_KEY="int-1")
    second = admin_api.post("/api/v1/integrations/", body, format="json", HTTP_IDEMPOTENCY_KEY="int-1")
    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert first.json()["key"] and second.json()["key"] is None
    assert second["Idempotent-Secrets-Withheld"] == "key"
    from incidents.models import IdempotencyRecord

    assert first.json()["key"] not in json.dumps([r.body for r in IdempotencyRecord.objects.all()])
    assert apps.get_model("integrations.Integration").objects.filter(name="Retried").count() == 1
