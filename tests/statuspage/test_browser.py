"""The public page in a real browser: bars, the open incident, a day's incidents on focus."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from incidents import services as core
from incidents.models import Incident
from incidents.statuspage import services
from incidents.statuspage.models import ComponentStatusPeriod, FooterLink, PageSettings, StatusComponent
from tests.incidents.factories import declare

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_status_page_in_browser(browser_page, live_server, components, responder):
    page = browser_page
    settings_row = PageSettings.objects.get()
    settings_row.name, settings_row.brand_colour = "Acme status", "#6d28d9"
    settings_row.save()
    FooterLink.objects.create(page=settings_row, label="Acme home", url="https://acme.test/")
    api, web, db = components["api"], components["web"], components["db"]
    StatusComponent.objects.update(start_date=timezone.localdate() - timedelta(days=200))
    past = declare("Login failures", by=responder)
    services.incident_publish_update(incident=past, body="Some users cannot log in.", by=responder, components={web: "partial_outage"})
    core.incident_resolve(incident=past, by=responder)
    services.components_refresh([web.pk])
    five_days_ago = timezone.now() - timedelta(days=5)
    ComponentStatusPeriod.objects.filter(component=web).update(started_at=five_days_ago, ended_at=five_days_ago + timedelta(hours=2))
    Incident.objects.filter(pk=past.pk).update(started_at=five_days_ago, resolved_at=five_days_ago + timedelta(hours=2))
    live = declare("Elevated API error rates", by=responder)
    services.incident_publish_update(incident=live, body="We are investigating **elevated error rates** on the API.", by=responder,
                                     components={api: "major_outage", db: "degraded_performance"})
    services.incident_publish_update(incident=live, body="The cause is identified; a fix is rolling out.", by=responder, status="identified")
    now = timezone.now()
    services.maintenance_save(title="Database failover test", description="Expect a few seconds of read-only mode.", services=[db.service],
                              scheduled_for=now + timedelta(days=2), scheduled_until=now + timedelta(days=2, hours=1), by=responder)

    page.goto(live_server.url + "/status/")
    assert page.locator("h1").inner_text() == "Major System Outage"
    incident = page.locator(".sp-incident", has_text="Elevated API error rates")
    assert incident.count() == 1
    assert incident.locator("strong", has_text="elevated error rates").count() == 1
    assert page.locator(f"#component-{api.code} .sp-state").inner_text().strip() == "Major outage"
    assert page.locator(".sp-bars").count() == 3
    for bars in page.locator(".sp-bars").all():
        assert bars.locator(".sp-bar").count() == 90
    web_bars = page.locator(f"#component-{web.code} .sp-bar")
    bad_day = web_bars.nth(90 - 1 - 5)
    assert "s-partial_outage" in bad_day.get_attribute("class")
    tip = bad_day.locator(".sp-tip")
    assert tip.bounding_box()["height"] <= 2  # hidden until hovered or focused
    bad_day.focus()
    assert tip.bounding_box()["height"] > 10 and "Login failures" in tip.inner_text()
    page.mouse.move(0, 0)
    assert "Database failover test" in page.locator("body").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "status-page.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.locator(".sp-bars").first.bounding_box()["width"] <= 390
    page.screenshot(path=str(ARTIFACTS / "status-page-phone.png"), full_page=True)
    page.click("text=Elevated API error rates")
    page.wait_for_selector("h1:has-text('Elevated API error rates')")
    assert "The cause is identified" in page.locator("main").inner_text()
