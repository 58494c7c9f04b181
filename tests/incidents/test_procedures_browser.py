"""Declaring a drill and a suspected breach in a real browser (Debian's chromium), on a phone
and a laptop: the type picker, the drill banner, the war room at the top, the breach playbook
with its owners and the roles it still needs, links added from the page."""

from pathlib import Path

import pytest

from incidents.models import Incident, IncidentType, Severity
from tests.conftest import browser_login

from .factories import ServiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SIZES = {"phone": (390, 844), "laptop": (1366, 900)}


def _declare(page, live_server, title, type_name):
    page.goto(live_server.url + "/incidents/new/")
    page.fill("#id_title", title)
    page.select_option("#id_type", label=type_name)
    page.check("text=Payments")
    page.click("button:has-text('Declare incident')")
    page.wait_for_selector(f"h1:has-text('{title}')")
    return Incident.objects.get(title=title)


@pytest.mark.parametrize("size", SIZES)
def test_declare_a_drill_and_a_security_incident(browser_page, live_server, responder, size):
    page = browser_page
    page.set_viewport_size({"width": SIZES[size][0], "height": SIZES[size][1]})
    ServiceFactory(name="Payments", slug="payments")
    Severity.objects.filter(key__in=["P0", "P2"]).update(war_room_pattern="https://meet.example.com/{number}", war_room_auto=True)
    browser_login(page, live_server, "responder")

    drill = _declare(page, live_server, "Game day: payments failover", "Drill")
    assert drill.is_drill and drill.severity.key == "P2"
    banner = page.locator(".drill-banner")
    assert banner.is_visible() and "DRILL" in banner.inner_text()
    join = page.locator("#war-room a", has_text="Join the call")
    assert join.get_attribute("href") == f"https://meet.example.com/{drill.number}"
    assert page.locator("text=Post publicly").count() == 0
    assert page.locator("text=Publish to the status page").count() == 0
    wide = page.evaluate("""w => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w)
        .filter(e => !e.closest('nav')).slice(0, 12).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))""", SIZES[size][0])
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size][0], wide  # nothing sideways on a phone
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"drill-{size}-first-screen.png"))
    page.screenshot(path=str(ARTIFACTS / f"drill-{size}.png"), full_page=True)

    breach = _declare(page, live_server, "Customer records on a paste site", "Security incident / suspected data breach")
    assert breach.type == IncidentType.objects.get(key="security") and breach.severity.key == "P0"
    assert page.locator(".drill-banner").count() == 0
    assert "Technical lead, Communications lead" in page.locator(".inc-missing-roles").inner_text()
    checklist = page.locator("#checklist").inner_text()
    assert "Notify Legal and PR" in checklist and "(Communications lead)" in checklist
    page.click("#links summary:has-text('Add a link')")
    page.select_option("#link_kind", "chat")
    page.fill("#link_title", "#sec-incident")
    page.fill("#link_url", "https://chat.example.com/c/sec")
    page.click("#links button:has-text('Add link')")
    page.wait_for_selector("text=Link added.")
    assert page.locator("#links a", has_text="#sec-incident").get_attribute("href") == "https://chat.example.com/c/sec"
    assert page.locator("text=Publish to the status page").count() == 0  # a breach is kept off the public page
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size][0]
    page.goto(page.url)  # the first screen, without the "Link added." notice
    page.screenshot(path=str(ARTIFACTS / f"security-{size}-first-screen.png"))
    page.screenshot(path=str(ARTIFACTS / f"security-{size}.png"), full_page=True)

    page.goto(live_server.url + "/drills/")
    assert drill.number in page.locator("main").inner_text()
    page.screenshot(path=str(ARTIFACTS / f"drills-{size}.png"), full_page=True)
