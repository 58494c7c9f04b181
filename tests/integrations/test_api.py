import pytest

from incidents.integrations.models import Alert, Integration, Runbook

from .payloads import am_alert, am_payload, pd_trigger

pytestmark = pytest.mark.django_db


def test_create_returns_the_key_once_and_stores_only_its_hash(admin_api, service, client_json):
    response = admin_api.post("/api/v1/integrations/", {
        "name": "Prometheus", "service": service.slug, "kind": "alertmanager", "default_severity": "P2",
        "group_by": ["alertname"],
    }, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    key = body["key"]
    assert len(key) == 32 and body["endpoint"].endswith(f"/api/v1/integrations/{key}/alertmanager/")
    integration = Integration.objects.get()
    assert key not in (integration.key_hash, integration.key_prefix) and integration.key_prefix == key[:8]
    assert integration.severity_rules  # the standard mapping was applied
    detail = admin_api.get(f"/api/v1/integrations/{body['id']}/").json()
    assert "key" not in detail and key not in str(detail)
    assert client_json(f"/api/v1/integrations/{key}/alertmanager/", am_payload()).status_code == 200


def test_rotate_key_invalidates_the_old_one(admin_api, make_integration, client_json):
    integration, old = make_integration("pagerduty")
    response = admin_api.post(f"/api/v1/integrations/{integration.public_id}/rotate-key/")
    assert response.status_code == 200
    new = response.json()["key"]
    assert new != old
    assert client_json("/v2/enqueue", pd_trigger(old)).status_code == 404
    assert client_json("/v2/enqueue", pd_trigger(new)).status_code == 202


def test_revoke_makes_the_endpoint_404(admin_api, make_integration, client_json):
    integration, key = make_integration("pagerduty")
    assert admin_api.post(f"/api/v1/integrations/{integration.public_id}/revoke/").status_code == 200
    assert client_json("/v2/enqueue", pd_trigger(key)).status_code == 404
    assert admin_api.post(f"/api/v1/integrations/{integration.public_id}/revoke/").status_code == 409


def test_update_validates_rules(admin_api, make_integration):
    integration, _key = make_integration("alertmanager")
    url = f"/api/v1/integrations/{integration.public_id}/"
    bad = admin_api.patch(url, {"severity_rules": [{"match": {"severity": "critical"}, "severity": "P9"}]}, format="json")
    assert bad.status_code == 400 and "severity_rules" in bad.json()["errors"]
    ok = admin_api.patch(url, {"auto_resolve": False, "flap_window": "00:02:00"}, format="json")
    assert ok.status_code == 200 and ok.json()["auto_resolve"] is False


def test_permissions_viewer_reads_responder_tests_admin_configures(viewer_api, responder_api, outsider, api_for, make_integration, service):
    integration, _key = make_integration("alertmanager")
    assert viewer_api.get("/api/v1/integrations/").status_code == 200
    assert viewer_api.post("/api/v1/integrations/", {"name": "x", "service": service.slug, "kind": "webhook"}).status_code == 403
    assert viewer_api.post(f"/api/v1/integrations/{integration.public_id}/test-alert/").status_code == 403
    assert responder_api.post(f"/api/v1/integrations/{integration.public_id}/rotate-key/").status_code == 403
    response = responder_api.post(f"/api/v1/integrations/{integration.public_id}/test-alert/", {}, format="json")
    assert response.status_code == 201 and response.json()["suppressed"] is True
    assert api_for(outsider).get("/api/v1/alerts/").status_code == 403
    assert api_for(None).get("/api/v1/alerts/").status_code in (401, 403)


def test_alert_list_filters_and_constant_queries(viewer_api, make_integration, client_json, django_assert_max_num_queries):
    integration, key = make_integration("alertmanager")
    url = f"/api/v1/integrations/{key}/alertmanager/"
    for n in range(5):
        client_json(url, am_payload(am_alert(fingerprint=f"f{n}", instance=f"db-{n}")))
    client_json(url, am_payload(am_alert(fingerprint="f0", status="resolved")))
    viewer_api.get("/api/v1/alerts/")  # warm the token's last-used stamp
    with django_assert_max_num_queries(6):
        body = viewer_api.get("/api/v1/alerts/").json()
    assert body["count"] == 5
    number = Alert.objects.first().incident.number
    assert viewer_api.get("/api/v1/alerts/", {"status": "resolved"}).json()["count"] == 1
    assert viewer_api.get("/api/v1/alerts/", {"open": "true"}).json()["count"] == 4
    assert viewer_api.get("/api/v1/alerts/", {"incident": number}).json()["count"] == 5
    assert viewer_api.get("/api/v1/alerts/", {"integration": str(integration.public_id), "fingerprint": "f3"}).json()["count"] == 1
    assert viewer_api.get("/api/v1/alerts/", {"service": "nope"}).json()["count"] == 0


def test_runbooks_api(admin_api, viewer_api, service):
    response = admin_api.post("/api/v1/runbooks/", {
        "identifier": "RB-DB-001", "title": "Database outage", "steps": "1. Check `systemctl status postgresql`",
        "rollback": "N/A", "time_estimate": "5-30 minutes", "last_reviewed": "2025-02-11",
        "services": [service.slug], "match_labels": {"alertname": "DatabaseDown"},
    }, format="json")
    assert response.status_code == 201, response.content
    assert viewer_api.get("/api/v1/runbooks/RB-DB-001/").json()["services"] == [service.slug]
    bad = admin_api.post("/api/v1/runbooks/", {"identifier": "db 1", "title": "x", "steps": "y"}, format="json")
    assert bad.status_code == 400 and "identifier" in bad.json()["errors"]
    assert viewer_api.delete("/api/v1/runbooks/RB-DB-001/").status_code == 403
    assert admin_api.patch("/api/v1/runbooks/RB-DB-001/", {"time_estimate": "10 minutes"}, format="json").json()["time_estimate"] == "10 minutes"
    assert Runbook.objects.get().time_estimate == "10 minutes"


def test_maintenance_windows_api(admin_api, make_integration):
    integration, _key = make_integration("alertmanager")
    bad = admin_api.post("/api/v1/integration-maintenances/", {
        "integration": str(integration.public_id), "starts_at": "2026-01-02T00:00:00Z", "ends_at": "2026-01-01T00:00:00Z"}, format="json")
    assert bad.status_code == 400
    ok = admin_api.post("/api/v1/integration-maintenances/", {
        "integration": str(integration.public_id), "starts_at": "2026-01-01T00:00:00Z", "ends_at": "2026-01-02T00:00:00Z", "reason": "upgrade"}, format="json")
    assert ok.status_code == 201


def test_runbook_deleted_through_the_api_is_audited(admin_api, admin_user):
    from django.contrib.admin.models import DELETION, LogEntry

    from incidents.integrations.models import Runbook

    assert admin_api.post("/api/v1/runbooks/", {"identifier": "RB-DEL-1", "title": "t", "steps": "s"}, format="json").status_code == 201
    pk = Runbook.objects.get(identifier="RB-DEL-1").pk
    assert admin_api.delete("/api/v1/runbooks/RB-DEL-1/").status_code == 204
    assert LogEntry.objects.filter(user=admin_user, object_id=str(pk), action_flag=DELETION).exists()


def test_a_revoked_integration_stays_revoked_through_the_api(admin_api, make_integration, client_json):
    integration, key = make_integration("webhook")
    assert admin_api.post(f"/api/v1/integrations/{integration.public_id}/revoke/").status_code == 200
    patched = admin_api.patch(f"/api/v1/integrations/{integration.public_id}/", {"revoked_at": None, "name": "again"}, format="json")
    assert patched.status_code == 200 and patched.json()["revoked_at"] is not None and patched.json()["active"] is False
    rotated = admin_api.post(f"/api/v1/integrations/{integration.public_id}/rotate-key/")
    assert rotated.status_code == 409 and "revoked" in rotated.json()["message"]
    integration.refresh_from_db()
    assert integration.revoked_at is not None
    assert client_json(f"/api/v1/integrations/{key}/webhook/", {"title": "x"}).status_code == 404
