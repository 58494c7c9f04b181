"""One whole incident in a real browser: log in, declare, acknowledge, update, resolve."""

from pathlib import Path

import pytest

from incidents.models import Incident
from tests.conftest import browser_login

from .factories import ServiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_incident_from_declaration_to_resolution_in_browser(browser_page, live_server, responder):
    page = browser_page
    ServiceFactory(name="Payments", slug="payments")
    browser_login(page, live_server, "responder")
    page.click("text=Declare incident")
    page.fill("#id_title", "Card payments failing")
    page.check("input[name=severity] >> nth=1")  # radio cards, none chosen beforehand: P1
    page.check("text=Payments")
    page.fill("#id_impact", "30% of checkouts fail")
    page.click("button:has-text('Declare incident')")
    page.wait_for_selector("h1:has-text('Card payments failing')")
    incident = Incident.objects.get()
    assert page.url.endswith(f"/incidents/{incident.number}/")

    page.click("button:has-text('Acknowledge')")
    page.wait_for_selector("text=escalation to the next level stops")

    page.fill("#post-update textarea[name=body]", "We are rolling back **deploy 42**.")
    page.select_option("#post-update select[name=status]", "identified")
    page.click("#post-update button:has-text('Post update')")
    page.wait_for_selector("text=Internal update posted.")
    assert page.locator(".update.internal strong", has_text="deploy 42").count() == 1

    page.click("summary:has-text('Resolve with a summary')")
    page.fill("#resolve_summary", "Rolled back deploy 42")
    page.click("button:has-text('Resolve incident')")
    page.wait_for_selector(f"text={incident.number} resolved")

    timeline = page.locator(".timeline").inner_text()
    for expected in ("Declared P1 High", "Acknowledged by Responder", "Status Investigating → Identified", "Internal update", "Resolved: Rolled back deploy 42"):
        assert expected in timeline, f"{expected!r} missing from the timeline"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "incident-resolved.png"), full_page=True)
    incident.refresh_from_db()
    assert incident.status == "resolved" and incident.acknowledged_by == responder
