import pytest

from incidents.integrations.models import Integration

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
