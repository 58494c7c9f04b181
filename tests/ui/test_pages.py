"""The main staff pages and the public status page in a real browser, on a 390 x 844 phone and a
1366 x 900 laptop: nothing wider than the screen on the phone, the menu folds behind its button,
tap targets of 44 px, and axe-core (vendored in tests/vendor/axe-core, never served) finds no serious or
critical accessibility violation. Screenshots of every page go to test-artifacts/ui/."""

from pathlib import Path

import pytest

from incidents import demo
from tests.conftest import CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "ui"
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
PASSWORD = "demo-password-123"
PHONE, LAPTOP = {"width": 390, "height": 844}, {"width": 1366, "height": 900}

# name -> (path, or (list page, link in it to follow); audited by axe-core)
PAGES = {
    "dashboard": ("/", True),
    "incidents": ("/incidents/", False),
    "incident": (("/incidents/", "main a[href^='/incidents/INC-']"), True),
    "declare": ("/incidents/new/", True),
    "oncall": ("/oncall/", False),
    "schedule": (("/oncall/schedules/", "main a[href^='/oncall/schedules/'][href$='/']:not([href$='new/'])"), True),
    "policy": (("/oncall/policies/", "main a[href^='/oncall/policies/'][href$='/']:not([href$='new/'])"), True),
    "integrations": ("/integrations/", False),
    "integration": (("/integrations/", "main a[href^='/integrations/'][href$='/']:not([href$='new/']):not([href='/integrations/'])"), True),
    "postmortems": ("/postmortems/", False),
    "postmortem": (("/postmortems/", "main a[href^='/postmortems/INC-']"), True),
    "metrics": ("/reports/metrics/", True),
    "status": ("/status/", True),
    "notifications": ("/notifications/", True),
    "subscriptions": ("/notifications/subscriptions/", True),
    "time zone and working hours": ("/oncall/my-time-zone/", True),
}
AXE_RUN = """() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']})
  .then(r => r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')))"""
SMALLEST_CHART_TEXT = """() => Math.min(...[...document.querySelectorAll('svg.chart')].flatMap(svg => {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return [...svg.querySelectorAll('text')].map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
}))"""
SMALL_TARGETS = """() => [...document.querySelectorAll('main .btn, main button, main summary, main select, .topbar summary, .nav-panel a, .nav-panel button')]
  .filter(e => e.offsetParent !== null).map(e => [e.textContent.trim().slice(0, 30), e.getBoundingClientRect().height])
  .filter(([, h]) => h < 44)"""


@pytest.fixture
def demo_data(db):
    demo.seed(PASSWORD)


def _resolve(page, base, target):
    if isinstance(target, str):
        return target
    listing, link = target
    page.goto(base + listing)
    return page.locator(link).first.get_attribute("href")


def _visit(browser, base, viewport, label):
    context = browser.new_context(viewport=viewport)
    context.add_init_script(path=str(AXE))  # injected by the browser, outside the page's CSP
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(base + "/accounts/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    problems, width = [], viewport["width"]
    for name, (target, audit) in PAGES.items():
        path = _resolve(page, base, target)
        response = page.goto(base + path)
        assert response.status == 200, f"{name}: {path} answered {response.status}"
        page.screenshot(path=str(ARTIFACTS / f"{name}-{label}.png"), full_page=True)
        if width == PHONE["width"]:
            scroll = page.evaluate("document.documentElement.scrollWidth")
            if scroll != width:
                problems.append(f"{name} ({path}): document is {scroll} px wide on a {width} px screen")
            small = page.evaluate(SMALL_TARGETS)
            if small:
                problems.append(f"{name}: tap targets under 44 px: {small[:5]}")
        if name == "status":
            bar = page.locator(".sp-bar[tabindex='0']").first
            bar.focus()
            ring = page.evaluate("() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, parseFloat(s.outlineWidth), s.boxShadow]; }")
            if ring[0] != "solid" or ring[1] < 2 or ring[2] == "none":
                problems.append(f"status {label}: a focused uptime bar shows no two-tone ring: {ring}")
        if name == "metrics":
            smallest = page.evaluate(SMALLEST_CHART_TEXT)
            if smallest < 12:
                problems.append(f"metrics {label}: chart text drawn at {smallest:.1f} px")
        if audit:
            problems += [f"{name} {label}: {v}" for v in page.evaluate(AXE_RUN)]
    return context, page, problems


def test_main_pages_on_phone_and_laptop(demo_data, live_server, chromium_path):
    import os

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context, page, problems = _visit(browser, live_server.url, PHONE, "390")
            # The menu is folded on the phone; its button opens it and the links are tappable.
            page.goto(live_server.url + "/")
            assert not page.locator(".nav-panel a", has_text="Incidents").first.is_visible()
            page.click("summary.nav-toggle")
            link = page.locator(".nav-panel a", has_text="On call").first
            assert link.is_visible() and link.bounding_box()["height"] >= 44
            assert page.evaluate("document.documentElement.scrollWidth") == PHONE["width"]
            page.screenshot(path=str(ARTIFACTS / "menu-open-390.png"))
            number = page.locator("main a[href^='/incidents/INC-']").first
            assert number.bounding_box()["height"] < 30, "the incident number wraps"
            context.close()
            context, page, laptop_problems = _visit(browser, live_server.url, LAPTOP, "1366")
            page.goto(live_server.url + "/")
            assert page.locator(".nav-panel a", has_text="Incidents").first.is_visible()  # open, no button
            assert not page.locator("summary.nav-toggle").is_visible()
            context.close()
        finally:
            browser.close()
    assert not problems + laptop_problems, "\n".join(problems + laptop_problems)


def test_menu_works_without_javascript(live_server, chromium_path, responder):
    """Without JavaScript the menu stays open: every link is there, on a phone too."""
    import os

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=PHONE, java_script_enabled=False)
            page = context.new_page()
            page.goto(live_server.url + "/accounts/login/")
            page.fill("#id_username", "responder")
            page.fill("#id_password", "pw-123456")
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: "/accounts/login/" not in url)
            assert page.locator(".nav-panel a", has_text="Incidents").first.is_visible()
            assert page.evaluate("document.documentElement.scrollWidth") == PHONE["width"]
        finally:
            browser.close()
