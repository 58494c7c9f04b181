"""The escalation policy editor over real HTTP (live server, a signed-in session, CSRF): levels
moved up and down, added and removed with their buttons as a browser without scripts sends them,
then saved in the order shown."""

import pytest
from django.urls import reverse

from oncall.models import EscalationPolicy
from tests.livehttp import LiveClient, field_value

from .conftest import Condition, LevelMode, TargetKind, make_policy, make_schedule
from .test_policy_pages import _post

pytestmark = pytest.mark.django_db(transaction=True)


def _pairs(data: dict) -> list:
    return [(k, x) for k, v in data.items() for x in (v if isinstance(v, list) else [v])]


def test_levels_reordered_added_and_removed_then_saved_in_that_order(live_server, admin_user, responder, responder2):
    rota = make_schedule("Checkout primary", [responder, responder2])
    policy = make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.SCHEDULE, rota)]),
                          (600, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, responder)]),
                          (1800, Condition.NOT_MITIGATED, [(TargetKind.USER, responder2)], ["P0"])], name="Checkout")
    web = LiveClient(live_server.url).login("boss")
    url = reverse("oncall:policy_edit", args=[policy.pk])
    page = web.get(url).text
    assert 'value="up:levels-2"' in page and 'value="remove:levels-0"' in page and "DELETE" not in page
    levels = [{"delay_minutes": "0", "targets": [f"schedule:{rota.pk}"]},
              {"delay_minutes": "10", "targets": [f"user:{responder.pk}"]},
              {"delay_minutes": "30", "condition": Condition.NOT_MITIGATED, "severities": ["P0"], "targets": [f"user:{responder2.pk}"],
               "mode": LevelMode.ROUND_ROBIN, "round_robin_minutes": "2"}]
    form = _pairs(_post(levels, name="Checkout"))

    # Up on level 3: it becomes level 2, with everything it held; nothing is saved yet.
    moved = web.post(url, [*form, ("rows", "up:levels-2")])
    assert moved.status_code == 200 and policy.levels.order_by("position").last().delay_seconds == 1800
    assert [field_value(moved.text, f"levels-{i}-delay_minutes") for i in range(3)] == ["0", "30", "10"]
    assert f'<option value="user:{responder2.pk}" selected>' in moved.text.split('name="levels-1-targets"', 1)[1].split("</select>", 1)[0]
    assert 'value="round_robin" selected' in moved.text.split('name="levels-1-mode"', 1)[1].split("</select>", 1)[0]
    assert "Choose who this level pages" not in moved.text

    # Down on level 1, "Add a level", then Remove on the blank level: the page keeps up.
    reordered = [levels[0], levels[2], levels[1]]
    down = web.post(url, [*_pairs(_post(reordered, name="Checkout")), ("rows", "down:levels-0")])
    assert [field_value(down.text, f"levels-{i}-delay_minutes") for i in range(3)] == ["30", "0", "10"]
    added = web.post(url, [*_pairs(_post(reordered, name="Checkout")), ("rows", "add:levels")])
    assert field_value(added.text, "levels-3-delay_minutes") == "0" and 'name="levels-TOTAL_FORMS" value="4"' in added.text
    removed = web.post(url, [*_pairs(_post([*reordered, {}], name="Checkout")), ("rows", "remove:levels-3")])
    assert field_value(removed.text, "levels-3-delay_minutes") is None and 'name="levels-TOTAL_FORMS" value="3"' in removed.text
    # Forged operations change nothing and never fail.
    for op in ("up:levels-99", "remove:levels-x", "explode:levels-0", "up:other-0", "add:levels-1"):
        same = web.post(url, [*_pairs(_post(reordered, name="Checkout")), ("rows", op)])
        assert same.status_code == 200 and [field_value(same.text, f"levels-{i}-delay_minutes") for i in range(3)] == ["0", "30", "10"]

    saved = web.post(url, _pairs(_post(reordered, name="Checkout")))
    assert saved.status_code == 302
    levels = list(EscalationPolicy.objects.get(pk=policy.pk).levels.prefetch_related("targets", "severities").order_by("position"))
    assert [(lv.delay_seconds, lv.condition, lv.mode) for lv in levels] == [
        (0, Condition.NOT_ACKNOWLEDGED, LevelMode.ALL), (1800, Condition.NOT_MITIGATED, LevelMode.ROUND_ROBIN),
        (600, Condition.NOT_ACKNOWLEDGED, LevelMode.ALL)]
    assert [[t.schedule_id or t.user_id for t in lv.targets.all()] for lv in levels] == [[rota.pk], [responder2.pk], [responder.pk]]
    assert levels[1].round_robin_seconds == 120 and [s.key for s in levels[1].severities.all()] == ["P0"]
