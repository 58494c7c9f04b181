from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.integrations.models import Alert, Integration
from incidents.integrations.services import configuration, runbooks

from .form_data import integration_post
from .payloads import am_alert, am_payload

pytestmark = pytest.mark.django_db


def test_create_shows_the_key_until_it_is_confirmed_then_never_again(client, admin_user, service, sev):
    client.force_login(admin_user)
    response = client.post("/integrations/new/", integration_post(
        service=service.pk, kind="alertmanager", default_severity=sev("P2").pk, repeat_severity=sev("P1").pk, group=["alertname"],
    ), follow=True)
    assert response.status_code == 200
    integration = Integration.objects.get()
    assert integration.group_by == ["alertname"]
    key = response.context["new_key"]
    page = response.content.decode()
    assert key in page and "receivers:" in page and "webhook_configs:" in page and f"/api/v1/integrations/{key}/alertmanager/" in page
    assert response["Cache-Control"] == "no-store, private"
    reload = client.get(integration.get_absolute_url())
    assert key in reload.content.decode() and "I have copied the key" in reload.content.decode()  # a reload does not lose it
    client.post(f"/integrations/{integration.public_id}/key-copied/")
    again = client.get(integration.get_absolute_url()).content.decode()
    assert key not in again and integration.key_prefix in again


def test_create_form_explains_bad_rows_per_row_and_saves_nothing(client, admin_user, service, sev):
    client.force_login(admin_user)
    response = client.post("/integrations/new/", integration_post(
        service=service.pk, kind="webhook", default_severity=sev("P2").pk,
        rules=[("severity", "critical", "P1"), ("", "warning", "P3"), ("team", "db", "and")], group=["alertname", "alertname"],
        mapping={"title": "event. name"}))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Name the label or field to match" in page and "Already in the list" in page and "Write a dotted path" in page
    assert 'value="warning"' in page and 'value="critical"' in page  # the rows come back as typed
    assert not Integration.objects.exists()


def test_pagerduty_page_has_a_client_example(client, admin_user, make_integration):
    integration, _key = make_integration("pagerduty")
    client.force_login(admin_user)
    page = client.get(integration.get_absolute_url()).content.decode()
    assert "EventsApiV2Client" in page and "/v2/enqueue" in page


def test_send_test_alert_records_a_suppressed_alert_with_its_raw_payload(client, responder, make_integration):
    integration, _key = make_integration("alertmanager")
    client.force_login(responder)
    response = client.post(f"/integrations/{integration.public_id}/test-alert/", follow=True)
    assert response.status_code == 200
    alert = Alert.objects.get()
    assert alert.suppressed and alert.incident is None
    page = response.content.decode()
    assert "Test alert from" in page and "Raw payload" in page and "sent_by" in page


def test_rotate_from_the_page_shows_the_new_key(client, admin_user, make_integration):
    integration, old = make_integration("webhook")
    client.force_login(admin_user)
    response = client.post(f"/integrations/{integration.public_id}/rotate-key/", follow=True)
    new = response.context["new_key"]
    assert new and new != old


def test_a_revoked_integration_offers_no_rotation_and_refuses_one(client, admin_user, make_integration):
    integration, _key = make_integration("webhook")
    configuration.integration_revoke(integration=integration, by=admin_user)
    client.force_login(admin_user)
    assert "Rotate key" not in client.get(integration.get_absolute_url()).content.decode()
    response = client.post(f"/integrations/{integration.public_id}/rotate-key/", follow=True)
    assert response.status_code == 200 and "revoked for good" in response.content.decode()
    assert response.context.get("new_key") is None


def test_page_permissions(client, viewer, outsider, make_integration):
    integration, _key = make_integration("alertmanager")
    client.force_login(outsider)
    assert client.get("/integrations/").status_code == 403
    client.force_login(viewer)
    assert client.get("/integrations/").status_code == 200
    assert client.get(integration.get_absolute_url()).status_code == 200
    assert client.get("/integrations/new/").status_code == 403
    assert client.post(f"/integrations/{integration.public_id}/test-alert/").status_code == 403
    assert client.post(f"/integrations/{integration.public_id}/rotate-key/").status_code == 403


def test_incident_page_shows_alerts_and_matching_runbooks(client, viewer, make_integration, client_json, service):
    runbooks.runbook_save(identifier="RB-DB-001", title="Database outage", steps="1. Check", match_labels={"alertname": "DatabaseDown"})
    runbooks.runbook_save(identifier="RB-ERR-001", title="High error rates", steps="1. Check", services=[service])
    runbooks.runbook_save(identifier="RB-PERF-001", title="Performance", steps="1. Check", match_labels={"alertname": "HighLatency"})
    _i, key = make_integration("alertmanager")
    client_json(f"/api/v1/integrations/{key}/alertmanager/", am_payload(am_alert(), am_alert(fingerprint="2", instance="db-2")))
    incident = Alert.objects.first().incident
    client.force_login(viewer)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "2 open of 2" in page
    assert "instance=db-1:9187" in page and "PostgreSQL database is not responding" in page
    assert 'href="http://prometheus:9090/graph?g0.expr=' in page
    assert "RB-DB-001" in page and "RB-ERR-001" in page and "RB-PERF-001" not in page
    assert "Alert firing: DatabaseDown" in page  # the timeline shows alert events


def test_runbooks_past_their_review_are_flagged_on_the_list_and_the_incident_page(
        client, viewer, make_integration, client_json, service, settings):
    """Reviewed every RUNBOOK_REVIEW_INTERVAL: one reviewed too long ago carries "Review overdue
    since <date>" where it is listed and where an incident offers it; a fresh one does not."""
    settings.RUNBOOK_REVIEW_INTERVAL = timedelta(days=90)
    today = timezone.localdate()
    runbooks.runbook_save(identifier="RB-DB-001", title="Database outage", steps="1. Check", match_labels={"alertname": "DatabaseDown"},
                          last_reviewed=today - timedelta(days=100))
    runbooks.runbook_save(identifier="RB-ERR-001", title="High error rates", steps="1. Check", services=[service],
                          last_reviewed=today - timedelta(days=10))
    overdue_since = f"Review overdue since {(today - timedelta(days=10)).isoformat()}"
    client.force_login(viewer)
    listing = client.get("/runbooks/").content.decode()
    assert listing.count("Review overdue since") == 1 and overdue_since in listing
    assert overdue_since in client.get("/runbooks/RB-DB-001/").content.decode()
    assert "Review overdue" not in client.get("/runbooks/RB-ERR-001/").content.decode()
    _i, key = make_integration("alertmanager")
    client_json(f"/api/v1/integrations/{key}/alertmanager/", am_payload(am_alert()))
    page = client.get(Alert.objects.get().incident.get_absolute_url()).content.decode()
    assert "RB-DB-001" in page and "RB-ERR-001" in page and page.count("Review overdue since") == 1 and overdue_since in page


def test_runbook_pages(client, viewer):
    runbooks.runbook_save(identifier="RB-DB-001", title="Database outage", steps="1. `systemctl status postgresql`", rollback="N/A",
                          time_estimate="5-30 minutes")
    client.force_login(viewer)
    assert "RB-DB-001" in client.get("/runbooks/").content.decode()
    page = client.get("/runbooks/RB-DB-001/").content.decode()
    assert "<code>systemctl status postgresql</code>" in page and "5-30 minutes" in page
    assert client.get("/runbooks/RB-NOPE-1/").status_code == 404


def test_demo_seeder_creates_runbooks_and_integrations(db):
    from incidents import demo

    assert demo.seed("demo-password-123") is True
    assert set(Integration.objects.values_list("kind", flat=True)) == {"alertmanager", "pagerduty", "heartbeat", "webhook"}
    from incidents.integrations.models import Runbook

    assert Runbook.objects.filter(identifier__in=["RB-DB-001", "RB-ERR-001", "RB-PERF-001"]).count() == 3
