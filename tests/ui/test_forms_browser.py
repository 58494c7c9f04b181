"""The structured editors in Debian's chromium, on a 390 x 844 phone and a 1366 x 900 laptop: the
escalation policy editor (searchable target picker, levels added, moved and removed, the round-robin
delay only in round-robin mode) and the integration's rule rows (added, removed, errors per row).
axe-core (tests/vendor/axe-core, injected by the browser, never served) finds no serious or
critical violation, nothing is wider than the phone, and screenshots go to test-artifacts/ui/."""

from pathlib import Path

import pytest
from django.urls import reverse

from incidents.integrations.models import Integration
from oncall.models import EscalationPolicy, LevelMode
from tests.conftest import CHROMIUM_ARGS
from tests.incidents.factories import ServiceFactory
from tests.oncall.conftest import make_schedule, person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "ui"
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
PHONE, LAPTOP = {"width": 390, "height": 844}, {"width": 1366, "height": 900}
AXE_RUN = """() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']})
  .then(r => r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')))"""
SMALL_TARGETS = """() => [...document.querySelectorAll('main .btn, main button, main select, main input[type=text], main input[type=number]')]
  .filter(e => e.offsetParent !== null && getComputedStyle(e).visibility !== 'hidden')
  .map(e => [e.textContent.trim().slice(0, 30) || e.name, e.getBoundingClientRect().height]).filter(([, h]) => h < 44)"""


@pytest.fixture
def browser(chromium_path, live_server):
    import os

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _page(browser, live_server, viewport):
    context = browser.new_context(viewport=viewport)
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-123456")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


def _check(page, name, viewport) -> list[str]:
    """Screenshot, then the page's problems: axe-core, and on the phone overflow and small targets."""
    page.screenshot(path=str(ARTIFACTS / f"{name}-{viewport['width']}.png"), full_page=True)
    problems = [f"{name} {viewport['width']}: {v}" for v in page.evaluate(AXE_RUN)]
    if viewport == PHONE:
        width = page.evaluate("document.documentElement.scrollWidth")
        if width != PHONE["width"]:
            problems.append(f"{name}: the page is {width} px wide on a 390 px phone")
        small = page.evaluate(SMALL_TARGETS)
        if small:
            problems.append(f"{name}: tap targets under 44 px: {small[:5]}")
    return problems


def _pick(page, level: int, query: str, *, enter: bool):
    """Choose a target in level `level`'s picker: type, then Enter or a click on the first match."""
    box = page.locator(f"[data-row]:nth-child({level}) .level-targets .picker input[role=combobox]")
    box.fill(query)
    if enter:
        box.press("Enter")
    else:
        page.locator(f"[data-row]:nth-child({level}) .level-targets .picker-list [role=option]").first.click()


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390", "1366"])
def test_policy_editor_picker_reorder_and_round_robin(browser, live_server, admin_user, viewport):
    dana, eli = person("dana", last_name="Scully"), person("eli", last_name="Moss")
    rota = make_schedule("Checkout primary", [dana, eli])
    page = _page(browser, live_server, viewport)
    page.goto(live_server.url + reverse("oncall:policy_new"))
    problems = []

    page.fill("#id_name", "Checkout paging")
    # Level 1: the schedule, found by typing part of its name and chosen with Enter.
    assert not page.locator("#id_levels-0-targets").is_visible()  # the plain <select multiple> is under the picker
    _pick(page, 1, "checkout", enter=True)
    assert page.locator("[data-row]:nth-child(1) .level-targets .picker-chip").all_inner_texts()[0].startswith("Checkout primary")
    # The round-robin delay shows only in round-robin mode.
    assert not page.locator("#id_levels-0-round_robin_minutes").is_visible()
    page.select_option("#id_levels-0-mode", LevelMode.ROUND_ROBIN)
    assert page.locator("#id_levels-0-round_robin_minutes").is_visible()
    page.fill("#id_levels-0-round_robin_minutes", "3")

    # Level 2: Dana, clicked in the list; level 3: Eli.
    page.click("button:has-text('Add a level')")
    page.fill("#id_levels-1-delay_minutes", "15")
    _pick(page, 2, "dana", enter=False)
    page.locator("#id_levels-1-delay_minutes").click()  # leave the picker: its list closes
    page.click("button:has-text('Add a level')")
    page.fill("#id_levels-2-delay_minutes", "30")
    box = page.locator("[data-row]:nth-child(3) .level-targets .picker input[role=combobox]")
    box.fill("m")  # "Moss", and more: the arrow keys walk the matches
    box.press("ArrowDown")
    active = page.locator("[data-row]:nth-child(3) .level-targets .picker-option.active").inner_text()
    assert box.get_attribute("aria-activedescendant") and box.get_attribute("aria-expanded") == "true"
    box.press("Escape")
    assert box.get_attribute("aria-expanded") == "false" and active
    _pick(page, 3, "Moss", enter=True)
    _pick(page, 3, "dana", enter=True)
    chips = page.locator("[data-row]:nth-child(3) .level-targets .picker-chip")
    assert chips.count() == 2
    chips.filter(has_text="Dana").locator("button").click()  # the chip's remove button
    assert chips.count() == 1
    problems += _check(page, "policy-editor", viewport)

    # Move level 3 (Eli) above level 2 (Dana); the numbers and field names follow.
    page.click("[data-row]:nth-child(3) button[data-row-action=up]")
    assert page.input_value("#id_levels-1-delay_minutes") == "30"
    assert page.locator("[data-row]:nth-child(2) .level-title").inner_text() == "Level 2"
    # A fourth level, added then removed.
    page.click("button:has-text('Add a level')")
    assert page.locator(".policy-level").count() == 4
    assert page.locator("[data-row]:nth-child(4) [data-row-group]").get_attribute("aria-label") == "Level 4"
    assert page.locator("[data-row]:nth-child(4) .level-title").inner_text() == "Level 4"
    page.click("[data-row]:nth-child(4) button[data-row-action=remove]")
    assert page.locator(".policy-level").count() == 3
    assert page.input_value("[name=levels-TOTAL_FORMS]") == "3"
    problems += _check(page, "policy-editor-reordered", viewport)
    page.locator("#id_name").press("Enter")  # Enter in a field saves: it never presses a row's Remove button
    page.wait_for_url(lambda url: url.rstrip("/").split("/")[-1].isdigit())

    policy = EscalationPolicy.objects.get(name="Checkout paging")
    levels = list(policy.levels.prefetch_related("targets").order_by("position"))
    assert [(lv.delay_seconds, lv.mode, lv.round_robin_seconds) for lv in levels] == [
        (0, LevelMode.ROUND_ROBIN, 180), (1800, LevelMode.ALL, 300), (900, LevelMode.ALL, 300)]
    assert [[t.schedule_id or t.user_id for t in lv.targets.all()] for lv in levels] == [[rota.pk], [eli.pk], [dana.pk]]

    # Editing shows the chosen targets as chips, and the levels in their order.
    page.goto(live_server.url + reverse("oncall:policy_edit", args=[policy.pk]))
    assert page.locator(".policy-level").count() == 3
    assert "Eli Moss" in page.locator("[data-row]:nth-child(2) .level-targets .picker-chosen").inner_text()
    problems += _check(page, "policy-editor-edit", viewport)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390", "1366"])
def test_integration_rule_rows(browser, live_server, admin_user, viewport):
    ServiceFactory(name="Database", slug="database")
    page = _page(browser, live_server, viewport)
    page.goto(live_server.url + reverse("integrations:create"))
    problems = []
    page.fill("#id_name", "Webhook from the queue")
    page.select_option("#id_service", label="Database")
    page.select_option("#id_kind", value="webhook")
    assert page.locator("#id_map-title").is_visible()  # the field mapping shows for the generic webhook

    # Rule 1: team = db AND severity = critical|page -> P0; rule 2: severity = warning -> P3.
    page.fill("#id_rules-0-label", "team")
    page.fill("#id_rules-0-values", "db")
    page.select_option("#id_rules-0-then", "and")
    page.click("button:has-text('Add a rule row')")
    page.fill("#id_rules-1-label", "severity")
    page.fill("#id_rules-1-values", "critical, page")
    page.select_option("#id_rules-1-then", "P0")
    page.click("button:has-text('Add a rule row')")
    page.fill("#id_rules-2-label", "oops")
    page.click("button:has-text('Add a rule row')")
    page.fill("#id_rules-3-label", "severity")
    page.fill("#id_rules-3-values", "warning")  # no severity chosen yet: explained on its row
    page.click("[data-row]:has(#id_rules-2-label) button[data-row-action=remove]")
    assert page.input_value("#id_rules-2-values") == "warning"  # renumbered
    page.fill("#id_group-0-label", "alertname")
    page.click("button:has-text('Add a label')")
    page.fill("#id_group-1-label", "cluster")
    page.fill("#id_map-title", "event.name")
    page.click("form.integration-form button.btn-primary:has-text('Save')")

    page.wait_for_selector(".rule-row.has-error")
    assert "Choose the severity" in page.locator(".rule-row.has-error").inner_text()
    assert page.input_value("#id_rules-1-values") == "critical, page"  # everything typed comes back
    assert not Integration.objects.exists()
    problems += _check(page, "integration-rules-error", viewport)

    page.select_option("#id_rules-2-then", "P3")
    page.click("form.integration-form button.btn-primary:has-text('Save')")
    page.wait_for_selector("h1:has-text('Webhook from the queue')")
    integration = Integration.objects.get()
    assert integration.severity_rules == [{"match": {"team": "db", "severity": ["critical", "page"]}, "severity": "P0"},
                                          {"match": {"severity": "warning"}, "severity": "P3"}]
    assert integration.group_by == ["alertname", "cluster"] and integration.field_mapping == {"title": "event.name"}
    problems += _check(page, "integration-key", viewport)

    page.click("a:has-text('Edit')")
    assert page.input_value("#id_rules-1-values") == "critical, page"
    assert page.locator("#id_rules-0-then").input_value() == "and"
    problems += _check(page, "integration-rules", viewport)
    assert not problems, "\n".join(problems)


def test_policy_editor_without_scripts(browser, live_server, admin_user):
    """With JavaScript off the buttons post: the page comes back rearranged (unsaved), and the plain
    <select multiple> does the picking."""
    dana, eli = person("dana", last_name="Scully"), person("eli", last_name="Moss")
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-123456")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto(live_server.url + reverse("oncall:policy_new"))
    page.fill("#id_name", "No scripts")
    assert page.locator("#id_levels-0-targets").is_visible()
    page.select_option("#id_levels-0-targets", [f"user:{dana.pk}"])
    page.click("button:has-text('Add a level')")
    page.wait_for_selector("#id_levels-1-targets")
    assert page.input_value("#id_name") == "No scripts" and page.locator(".error").count() == 0
    page.fill("#id_levels-1-delay_minutes", "20")
    page.select_option("#id_levels-1-targets", [f"user:{eli.pk}"])
    page.click("[data-row]:nth-child(2) button[data-row-action=up]")
    page.wait_for_load_state()
    assert page.input_value("#id_levels-0-delay_minutes") == "20"
    page.screenshot(path=str(ARTIFACTS / "policy-editor-noscript-390.png"), full_page=True)
    page.click("button.btn-primary:has-text('Save policy')")
    page.wait_for_url(lambda url: url.rstrip("/").split("/")[-1].isdigit())
    levels = list(EscalationPolicy.objects.get(name="No scripts").levels.prefetch_related("targets").order_by("position"))
    assert [(lv.delay_seconds, [t.user_id for t in lv.targets.all()]) for lv in levels] == [(1200, [eli.pk]), (0, [dana.pk])]
    context.close()
