"""The game-day pages and the drills report in Debian's chromium, on a 390 x 844 phone and a
1366 x 900 laptop (demo data: a planned game day and a done one with its drill): nothing wider
than the screen on the phone, 44 px tap targets, no serious axe-core violation; and the plan
form filled in and sent from the phone. Screenshots go to test-artifacts/ui/."""

import os

import pytest

from incidents import demo
from postmortems.models import GameDay
from tests.conftest import CHROMIUM_ARGS
from tests.ui.test_pages import ARTIFACTS, AXE, AXE_RUN, LAPTOP, PASSWORD, PHONE, SMALL_TARGETS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = {
    "game-days": "/game-days/",
    "game-days-past": "/game-days/?when=past",
    "game-day-new": "/game-days/new/",
    "drills": "/drills/",
}


def _pages():
    done = GameDay.objects.exclude(status="planned").first()
    planned = GameDay.objects.filter(status="planned").first()
    return {**PAGES, "game-day": planned.get_absolute_url(), "game-day-done": done.get_absolute_url(),
            "game-day-results": f"/game-days/{done.public_id}/results/", "game-day-edit": f"/game-days/{planned.public_id}/edit/"}


def _check(page, base, viewport, label) -> list[str]:
    problems = []
    for name, path in _pages().items():
        response = page.goto(base + path)
        assert response.status == 200, f"{name}: {path} answered {response.status}"
        page.screenshot(path=str(ARTIFACTS / f"{name}-{label}.png"), full_page=True)
        if viewport == PHONE:
            scroll = page.evaluate("document.documentElement.scrollWidth")
            if scroll != viewport["width"]:
                problems.append(f"{name} ({path}): document is {scroll} px wide on a {viewport['width']} px screen")
            small = page.evaluate(SMALL_TARGETS)
            if small:
                problems.append(f"{name}: tap targets under 44 px: {small[:5]}")
        problems += [f"{name} {label}: {v}" for v in page.evaluate(AXE_RUN)]
    return problems


def test_game_day_pages_on_phone_and_laptop(live_server, chromium_path):
    demo.seed(PASSWORD)
    assert GameDay.objects.count() == 2
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            for viewport, label in ((PHONE, "390"), (LAPTOP, "1366")):
                context = browser.new_context(viewport=viewport)
                context.add_init_script(path=str(AXE))
                page = context.new_page()
                page.set_default_timeout(15_000)
                page.goto(live_server.url + "/accounts/login/")
                page.fill("#id_username", "admin")
                page.fill("#id_password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(lambda url: "/accounts/login/" not in url)
                problems += _check(page, live_server.url, viewport, label)
                if viewport == PHONE:  # plan one from the phone
                    page.goto(live_server.url + "/game-days/new/")
                    page.fill("#id_title", "Phone-planned drill")
                    page.fill("#id_scenario", "Cache cluster loses a node")
                    page.select_option("#id_time_zone", "Europe/Paris")
                    page.fill("#id_starts_at", "2099-05-04T10:00")
                    page.fill("#id_ends_at", "2099-05-04T11:30")
                    page.click("main button[type=submit]")
                    page.wait_for_selector("h1:has-text('Phone-planned drill')")
                    assert page.evaluate("document.documentElement.scrollWidth") == PHONE["width"]
                context.close()
        finally:
            browser.close()
    assert not problems, "\n".join(problems)
