"""Declaring a restricted security incident in a real browser (Debian's chromium), on a phone
and a laptop: the Restricted badge and who else may read it; for a viewer outside it, the
incident is not in the list and its page is a 404."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from incidents.models import Incident
from tests.conftest import browser_login

from .factories import ServiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SIZES = {"phone": (390, 844), "laptop": (1366, 900)}


@pytest.mark.parametrize("size", SIZES)
def test_declare_a_restricted_security_incident(browser_page, live_server, responder, viewer, size):
    page = browser_page
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    ServiceFactory(name="Payments", slug="payments")
    Group.objects.get_or_create(name="Executives")
    browser_login(page, live_server, "responder")

    page.goto(live_server.url + "/incidents/new/")
    page.fill("#id_title", "Card numbers in a debug log")
    page.select_option("#id_type", label="Security incident / suspected data breach")
    page.check("text=Payments")
    page.check("#id_restricted")
    page.check("label:has-text('Executives') >> input")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"restricted-declare-{size}.png"), full_page=True)
    page.click("button:has-text('Declare incident')")
    page.wait_for_selector("h1:has-text('Card numbers in a debug log')")
    incident = Incident.objects.get(title="Card numbers in a debug log")
    assert incident.restricted
    assert {g.name for g in incident.access_groups.all()} == {"Security", "Legal", "Executives"}
    badge = page.locator(".inc-restricted")
    assert badge.is_visible() and badge.inner_text() == "Restricted"
    summary = page.locator("#restriction summary").inner_text()
    assert "Executives" in summary and "Legal" in summary and "Security" in summary
    assert page.locator("text=Publish to the status page").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing sideways on a phone
    page.goto(page.url)  # the first screen, without the "declared" notice
    page.screenshot(path=str(ARTIFACTS / f"restricted-{size}-first-screen.png"))
    page.screenshot(path=str(ARTIFACTS / f"restricted-{size}.png"), full_page=True)

    page.context.clear_cookies()
    browser_login(page, live_server, "viewer")
    page.goto(live_server.url + "/incidents/")
    assert incident.number not in page.locator("main").inner_text()
    response = page.goto(live_server.url + incident.get_absolute_url())
    assert response.status == 404
    assert "Card numbers" not in page.content()
    page.screenshot(path=str(ARTIFACTS / f"restricted-outsider-{size}.png"), full_page=True)
