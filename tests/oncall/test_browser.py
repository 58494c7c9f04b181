"""In Debian's chromium: the escalation policy form, as a person fills it in, saves the levels
it shows (the formset's management fields, multi-selects and checkbox lists included)."""

from pathlib import Path

import pytest
from django.urls import reverse

from oncall.models import EscalationPolicy, Schedule
from tests.conftest import browser_login

from .conftest import Condition, TargetKind, make_policy, make_schedule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_edit_a_policy_in_the_browser(browser_page, live_server, admin_user, responder, responder2):
    page = browser_page
    rota = make_schedule("Checkout primary", [responder, responder2])
    policy = make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.SCHEDULE, rota)])], name="Checkout")
    browser_login(page, live_server, "boss")
    page.goto(live_server.url + reverse("oncall:policy", args=[policy.pk]))
    page.click("a:has-text('Edit')")

    page.click("button:has-text('Add a level')")
    page.fill("#id_levels-1-delay_minutes", "20")
    page.click("button:has-text('Save policy')")
    assert "Choose who this level pages" in page.inner_text("form.card")  # no target yet: explained, nothing saved
    assert policy.levels.count() == 1

    for query in ("Responder2", "Checkout primary"):  # the searchable picker: type, Enter chooses the first match
        page.fill("[data-row]:nth-child(2) .level-targets .picker input[role=combobox]", query)
        page.press("[data-row]:nth-child(2) .level-targets .picker input[role=combobox]", "Enter")
    assert page.locator("[data-row]:nth-child(2) .level-targets .picker-chip").count() == 2
    page.keyboard.press("Escape")  # closes the picker's list
    assert not page.locator("[data-row]:nth-child(2) .level-targets .picker-list").is_visible()
    page.select_option("#id_levels-1-condition", Condition.NOT_MITIGATED)
    page.check("#id_levels-1-severities input[value='P0']")
    page.click("button:has-text('Save policy')")
    page.wait_for_url(lambda url: url.endswith(reverse("oncall:policy", args=[policy.pk])))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "policy-edited.png"), full_page=True)

    text = page.inner_text("main")
    assert "after 20 min, if not mitigated (P0 only)" in text and "Boss changed it" in text
    levels = list(EscalationPolicy.objects.get(pk=policy.pk).levels.prefetch_related("targets", "severities").order_by("position"))
    assert [(lv.delay_seconds, lv.condition) for lv in levels] == [(0, Condition.NOT_ACKNOWLEDGED), (1200, Condition.NOT_MITIGATED)]
    assert {(t.kind, t.user_id or t.schedule_id) for t in levels[1].targets.all()} == {
        (TargetKind.USER, responder2.pk), (TargetKind.SCHEDULE, rota.pk)}
    assert [s.key for s in levels[1].severities.all()] == ["P0"]


def test_layer_form_previews_the_next_windows_in_the_browser(browser_page, live_server, admin_user, responder, responder2):
    page = browser_page
    rota = make_schedule("Checkout primary", [responder, responder2], tz="Australia/Lord_Howe")
    browser_login(page, live_server, "boss")
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height in ((390, 844), (1366, 900)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(live_server.url + reverse("oncall:layer_edit", args=[rota.layers.get().pk]))
        assert "runs 24 h from the start" in page.inner_text("form.card")
        page.fill("#id_restrictions", "Mon-Fri 08:00-08:00")
        page.click("button:has-text('Preview')")
        preview = page.locator("#preview")
        preview.wait_for()
        text = preview.inner_text()
        assert "Australia/Lord_Howe" in text and "runs 24 h from the start, to 08:00 the next day" in text
        assert "Next handoffs" in text and "Next on-call windows" in text and "(UTC+1" in text
        assert page.input_value("#id_restrictions") == "Mon-Fri 08:00-08:00"  # the form keeps what was typed
        page.screenshot(path=str(ARTIFACTS / f"layer-preview-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1  # nothing forces a sideways scroll
    assert not rota.layers.get().restrictions.exists()  # previews save nothing
    page.click("button:has-text('Save layer')")
    page.wait_for_url(lambda url: url.endswith(reverse("oncall:schedule", args=[rota.pk])))
    assert "An equal start and end runs 24 h from the start" in page.inner_text("main")
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(ARTIFACTS / f"schedule-24h-window-{width}.png"), full_page=True)


def test_new_schedule_form_previews_its_first_layer_in_the_browser(browser_page, live_server, admin_user, responder):
    page = browser_page
    browser_login(page, live_server, "boss")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + reverse("oncall:schedule_new"))
    page.fill("#id_name", "Nights")
    page.fill("#id_time_zone", "America/St_Johns")
    page.select_option("#id_layer-rotation", "hours")
    page.fill("#id_layer-every", "12")
    page.fill("#id_layer-participants", "responder\noff")
    page.fill("#id_layer-restrictions", "daily 20:00-08:00")
    page.click("button:has-text('Preview')")
    text = page.locator("#preview").inner_text()
    assert "America/St_Johns" in text and "(UTC-0" in text and "nobody (off)" in text and "Next on-call windows" in text
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "schedule-new-preview-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 391
    assert not Schedule.objects.exists()
