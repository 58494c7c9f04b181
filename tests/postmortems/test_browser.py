"""A postmortem written and published in a real browser, then seen on the metrics chart."""

from pathlib import Path

import pytest

from postmortems.models import ActionItem, Postmortem
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_write_publish_postmortem_and_see_the_chart(browser_page, live_server, resolved, responder, responder2):
    page = browser_page
    incident = resolved("P2")
    browser_login(page, live_server, "responder")
    page.goto(live_server.url + incident.get_absolute_url())
    page.click("text=Start a postmortem")
    page.click("button:has-text('Open postmortem')")
    page.wait_for_selector("text=Postmortem opened.")
    assert "**Severity:** P2 Medium" in page.input_value("#id_section-summary")
    assert "Declared P2 Medium" in page.input_value("#id_section-timeline")

    page.fill("#id_section-impact-users", "About **40%** of checkouts failed for two hours.")
    page.fill("#id_section-root-cause", "A deploy removed an index; queries timed out.")
    page.click("button:has-text('Preview')")
    page.wait_for_selector("text=Preview, not saved")
    assert page.locator("#section-impact-users .pm-preview strong", has_text="40%").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "postmortem-draft-preview.png"), full_page=True)
    page.click("button:has-text('Save write-up')")
    page.wait_for_selector("text=Postmortem saved.")

    page.click("summary:has-text('Add an action item')")
    page.fill("#id_item-title", "Alert when an index is dropped")
    page.select_option("#id_item-owner", str(responder2.pk))
    page.select_option("#id_item-category", "detection")
    page.click("button:has-text('Add action item')")
    page.wait_for_selector("text=Action item added; the write-up was saved with it.")

    page.click("button:has-text('Send for review')")
    page.wait_for_selector("text=Sent for review.")
    page.fill("#id_publish_summary", "A database change slowed checkout; it is fixed and monitored.")
    page.click("button:has-text('Publish postmortem')")
    page.wait_for_selector("text=Postmortem published.")
    assert page.locator("textarea[name^=section-]").count() == 0
    assert page.locator("#section-root-cause", has_text="A deploy removed an index").count() == 1
    page.screenshot(path=str(ARTIFACTS / "postmortem-published.png"), full_page=True)

    pm = Postmortem.objects.get(incident=incident)
    assert pm.status == "published" and ActionItem.objects.get().owner == responder2
    assert incident.timeline.get(kind="postmortem.published").data["public_summary"].startswith("A database change")

    page.goto(live_server.url + incident.get_absolute_url())
    assert page.locator("#postmortem", has_text="Published").count() == 1
    page.screenshot(path=str(ARTIFACTS / "postmortem-incident-panel.png"), full_page=True)
    page.click("nav >> text=Action items")
    page.wait_for_selector("text=Alert when an index is dropped")
    page.click("nav >> text=Metrics")
    page.wait_for_selector("#chart-mttr")
    bars = page.locator("#chart-mttr rect")
    assert bars.count() == 1 and "P2" in bars.first.locator("title").text_content()
    assert page.locator("#table-severity", has_text="P2 Medium").count() == 1
    assert page.locator("#table-followup", has_text="Postmortems published on time").count() == 1
    page.screenshot(path=str(ARTIFACTS / "postmortem-metrics.png"), full_page=True)
