"""An integration set up in a real browser: create it, copy its key, send a test alert."""

import json
from pathlib import Path

import pytest
from django.test import Client

from incidents.integrations.models import Alert, Integration
from tests.conftest import browser_login
from tests.incidents.factories import ServiceFactory

from .payloads import am_alert, am_payload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_create_integration_send_test_alert_and_see_the_incident_panel(browser_page, live_server, admin_user, seeded):
    page = browser_page
    ServiceFactory(name="Database", slug="database")
    browser_login(page, live_server, "boss")
    page.click("nav >> text=Integrations")
    page.click("text=New integration")
    page.fill("#id_name", "Prometheus production")
    page.select_option("#id_service", label="Database")
    page.select_option("#id_kind", value="alertmanager")
    page.click("button:has-text('Save')")
    page.wait_for_selector("h1:has-text('Prometheus production')")
    key = page.inner_text("[aria-label='Integration key']").strip()
    integration = Integration.objects.get()
    assert integration.key_prefix == key[:8]
    assert "webhook_configs:" in page.content()

    page.click("button:has-text('Send test alert')")
    page.wait_for_selector("text=Test alert received")
    assert Alert.objects.get().suppressed
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "integration-detail.png"), full_page=True)

    Client().post(f"/api/v1/integrations/{key}/alertmanager/", data=json.dumps(am_payload(am_alert())), content_type="application/json")
    incident = Alert.objects.exclude(incident=None).get().incident
    page.goto(live_server.url + incident.get_absolute_url())
    page.wait_for_selector("#alerts-panel-h")
    assert "instance=db-1:9187" in page.inner_text("#alerts")
    page.screenshot(path=str(ARTIFACTS / "incident-alerts-panel.png"), full_page=True)
