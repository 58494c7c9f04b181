import pytest
from django.contrib.admin.models import LogEntry

from incidents.integrations.models import Integration
from incidents.integrations.services import configuration

pytestmark = pytest.mark.django_db


def test_admin_pages_render(client, admin_user, make_integration):
    integration, _key = make_integration("heartbeat")
    client.force_login(admin_user)
    for model in ("integration", "alert", "alertgroup", "heartbeat", "runbook"):
        assert client.get(f"/admin/integrations/{model}/").status_code == 200, model
    assert client.get(f"/admin/integrations/integration/{integration.pk}/change/").status_code == 200
    assert client.get("/admin/integrations/runbook/add/").status_code == 200


def test_admin_add_integration_shows_the_key_once(client, admin_user, service, sev):
    client.force_login(admin_user)
    response = client.post("/admin/integrations/integration/add/", {
        "name": "From admin", "service": service.pk, "kind": "webhook", "default_severity": sev("P2").pk,
        "severity_rules": "[]", "group_by": "[]", "field_mapping": "{}", "resolved_values": "[]", "auto_resolve": "on",
        "flap_window": "00:10:00", "repeat_threshold": 5, "repeat_window": "00:10:00", "rate_limit_per_minute": 100,
        "maintenance_windows-TOTAL_FORMS": 0, "maintenance_windows-INITIAL_FORMS": 0,
    }, follow=True)
    assert response.status_code == 200
    integration = Integration.objects.get()
    text = response.content.decode()
    assert "shown once" in text and integration.key_prefix in text


def _change_form(integration, **overrides):
    data = {
        "name": integration.name, "service": integration.service_id, "kind": integration.kind,
        "default_severity": integration.default_severity_id, "severity_rules": "[]", "group_by": "[]", "field_mapping": "{}",
        "resolved_values": "[]", "auto_resolve": "on", "flap_window": "00:10:00", "repeat_threshold": 5, "repeat_window": "00:10:00",
        "rate_limit_per_minute": integration.rate_limit_per_minute, "repeat_severity": integration.repeat_severity_id or "",
        "revoked_at_0": "", "revoked_at_1": "",
        "maintenance_windows-TOTAL_FORMS": 0, "maintenance_windows-INITIAL_FORMS": 0,
    }
    data.update(overrides)
    return data


def test_a_revoked_key_cannot_be_unrevoked_from_the_admin(client, admin_user, make_integration):
    integration, key = make_integration("webhook")
    configuration.integration_revoke(integration=integration, by=admin_user)
    client.force_login(admin_user)
    response = client.post(f"/admin/integrations/integration/{integration.pk}/change/", _change_form(integration, name="Renamed"))
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.name == "Renamed" and integration.revoked_at is not None
    assert client.post(f"/api/v1/integrations/{key}/webhook/", {"title": "x"}, content_type="application/json").status_code in (401, 403, 404)


def test_integration_changes_and_maintenance_windows_from_the_admin_are_audited_by_the_service(client, admin_user, make_integration):
    integration, _key = make_integration("webhook")
    client.force_login(admin_user)
    response = client.post(f"/admin/integrations/integration/{integration.pk}/change/", _change_form(
        integration, name="Renamed", **{"maintenance_windows-TOTAL_FORMS": 1, "maintenance_windows-0-starts_at_0": "2026-01-01",
                                        "maintenance_windows-0-starts_at_1": "10:00", "maintenance_windows-0-ends_at_0": "2026-01-01",
                                        "maintenance_windows-0-ends_at_1": "09:00", "maintenance_windows-0-reason": "backwards"}))
    assert response.status_code == 200 and "ends_after_start" in response.text  # refused on the form: nothing saved
    integration.refresh_from_db()
    assert integration.name != "Renamed"
    response = client.post(f"/admin/integrations/integration/{integration.pk}/change/", _change_form(
        integration, name="Renamed", **{"maintenance_windows-TOTAL_FORMS": 1, "maintenance_windows-0-starts_at_0": "2026-01-01",
                                        "maintenance_windows-0-starts_at_1": "10:00", "maintenance_windows-0-ends_at_0": "2026-01-01",
                                        "maintenance_windows-0-ends_at_1": "12:00", "maintenance_windows-0-reason": "upgrade"}))
    assert response.status_code == 302
    messages = [e.get_change_message() for e in LogEntry.objects.filter(object_id=str(integration.pk)).order_by("pk")]
    assert messages[-2:] == ["Changed name.", "maintenance window 2026-01-01 10:00 – 2026-01-01 12:00 UTC: upgrade"]
    assert all(e.user == admin_user for e in LogEntry.objects.filter(object_id=str(integration.pk)))
