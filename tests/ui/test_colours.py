"""Text on coloured backgrounds meets WCAG 2.2 AA (4.5:1): severity badges (colours are data, so
the text colour is chosen per background), status badges and the status page's states."""

import re
from pathlib import Path

import pytest

from incidents.colours import contrast_ratio, relative_luminance, text_on
from incidents.models import Severity

ROOT = Path(__file__).resolve().parents[2]
AA = 4.5


def test_contrast_ratio_matches_wcag_reference_values():
    assert relative_luminance("#ffffff") == pytest.approx(1.0)
    assert relative_luminance("#000") == pytest.approx(0.0)
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#dc6803") == pytest.approx(3.49, abs=0.01)  # the old P1 badge
    assert contrast_ratio("#ffffff", "#ca8504") == pytest.approx(3.06, abs=0.01)  # the old P2 badge


@pytest.mark.parametrize("background", ["#dc6803", "#ca8504", "#b42318", "#475467", "#ffff00", "#00ff00", "#0000ff", "#777777", "#767676"])
def test_text_on_any_background_is_the_more_readable_of_black_and_white(background):
    chosen = text_on(background)
    other = "#ffffff" if chosen == "#000000" else "#000000"
    assert contrast_ratio(background, chosen) >= contrast_ratio(background, other)
    assert contrast_ratio(background, chosen) >= AA or background == "#777777"  # mid grey: 4.48 is the best there is


@pytest.mark.django_db
def test_every_severity_badge_in_the_stylesheet_meets_aa(client):
    Severity.objects.create(key="SEV9", label="Yellow", rank=99, colour="#fde047")
    css = client.get("/severities.css").content.decode()
    rules = re.findall(r"\.sev-(\d+)\{background:(#[0-9a-fA-F]{6});color:(#[0-9a-fA-F]{6})\}", css)
    assert len(rules) == Severity.objects.count() >= 5
    for _pk, background, text in rules:
        assert contrast_ratio(background, text) >= AA, (background, text)
    yellow = Severity.objects.get(key="SEV9")
    assert f".sev-{yellow.pk}{{background:#fde047;color:#000000}}" in css


def _vars(css: str, block: str) -> dict[str, str]:
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{3,6})", block))


def test_status_badges_and_status_page_states_meet_aa_in_light_mode():
    portal = (ROOT / "static/css/portal.css").read_text()
    light = _vars(portal, portal[:portal.index("@media")])
    for name in ("danger", "warn", "primary", "ok"):  # status badge text on the page background
        assert contrast_ratio(light[name], light["bg"]) >= AA, name
    status = (ROOT / "static/statuspage/status.css").read_text()
    light = _vars(status, status[:status.index("@media")])
    for name in ("ok-text", "minor-text", "partial-text", "major-text", "maint-text"):
        assert contrast_ratio(light[name], light["surface"]) >= AA, name
    for name in ("ok-bg", "minor-bg", "partial-bg", "major", "maint"):  # banners behind white text
        assert contrast_ratio(light[name], "#ffffff") >= AA, name


def test_focus_ring_on_uptime_bars_shows_on_every_bar_colour():
    """A dark ring over a light halo: on any bar (green, amber, orange, red, blue, grey) one of the
    two reaches 3:1 (WCAG 2.2 non-text contrast), where a single amber ring vanished on amber."""
    status = (ROOT / "static/statuspage/status.css").read_text()
    light = _vars(status, status[:status.index("@media")])
    rule = re.search(r"\.sp-bar:focus-visible \{([^}]*)\}", status).group(1)
    assert "outline: 2px solid var(--focus)" in rule and "box-shadow: 0 0 0 4px var(--surface)" in rule
    for bar in ("ok", "minor", "partial", "major", "maint", "none"):
        best = max(contrast_ratio(light["focus"], light[bar]), contrast_ratio(light["surface"], light[bar]))
        assert best >= 3, (bar, best)
