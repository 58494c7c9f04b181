"""The layer form explains an equal start and end and previews the next handoffs and windows
in the schedule's zone, from the same rotation maths the pager reads, without saving."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from oncall import selectors
from oncall.models import Layer, Schedule
from oncall.services.schedules import LayerSpec, RestrictionSpec

from .conftest import make_schedule

pytestmark = pytest.mark.django_db


def _layer_post(layer, **extra):
    return {"name": "Primary", "rotation": "daily", "every": 1, "handoff_time": "09:00", "handoff_weekday": 0,
            "starts_on": layer.starts_on, "participants": "responder\nresponder2", **extra}


def test_preview_lists_the_next_windows_in_the_zone_and_saves_nothing(client, staff, responder, responder2):
    rota = make_schedule("Platform", [responder, responder2], tz="America/New_York")
    layer = rota.layers.get()
    version = Schedule.objects.get(pk=rota.pk).version
    client.force_login(staff)
    resp = client.post(reverse("oncall:layer_edit", args=[layer.pk]),
                       _layer_post(layer, restrictions="Mon-Fri 08:00-08:00", preview="1"))
    page = resp.content.decode()
    assert resp.status_code == 200
    assert "runs 24 h from the start, to 08:00 the next day" in page
    assert "Next handoffs" in page and "Next on-call windows" in page and "America/New_York" in page
    assert " 08:00 (UTC-05:00)" in page  # windows open at 08:00 Eastern
    assert Schedule.objects.get(pk=rota.pk).version == version and not layer.restrictions.exists()
    assert layer.rotation == Layer.objects.get(pk=layer.pk).rotation == "weekly"


def test_preview_on_the_new_schedule_form_creates_nothing(client, staff, responder):
    client.force_login(staff)
    resp = client.post(reverse("oncall:schedule_new"), {
        "name": "Night", "time_zone": "Asia/Kolkata", "layer-name": "Primary", "layer-rotation": "hours", "layer-every": 12,
        "layer-handoff_time": "09:00", "layer-handoff_weekday": 0, "layer-starts_on": "2026-01-05",
        "layer-participants": "responder\noff", "preview": "1"})
    page = resp.content.decode()
    assert resp.status_code == 200 and "(UTC+05:30)" in page and "nobody (off)" in page
    assert not Schedule.objects.exists()


def test_the_form_explains_an_equal_start_and_end(client, staff, responder):
    rota = make_schedule("Platform", [responder])
    client.force_login(staff)
    page = client.get(reverse("oncall:layer_edit", args=[rota.layers.get().pk])).content.decode()
    assert "an equal start and end (“Mon-Fri 08:00-08:00”) runs 24 h from the start" in page
    assert 'name="preview"' in page and "<script" not in page.split("<main", 1)[-1]


def test_preview_agrees_with_the_saved_schedule(client, staff, responder, responder2):
    rota = make_schedule("Platform", [responder, responder2], tz="Europe/Berlin")
    layer = rota.layers.get()
    spec = LayerSpec(name="Primary", starts_on=layer.starts_on, participants=[(responder, 1), (responder2, 1)], rotation="daily",
                     restrictions=[RestrictionSpec([0, 1, 2, 3, 4], time(8), time(8))])
    preview = selectors.layer_preview(spec=spec, time_zone="Europe/Berlin")
    client.force_login(staff)
    client.post(reverse("oncall:layer_edit", args=[layer.pk]), _layer_post(layer, restrictions="Mon-Fri 08:00-08:00"))
    now = datetime.now(UTC)
    saved = selectors.schedule_shifts(Schedule.objects.get(pk=rota.pk), now, now + timedelta(days=60))
    shown = [(row.start, row.user) for row in preview["windows"]]
    assert len(shown) == 6  # the first starts "now", a moment apart: compare the rest
    assert shown[1:] == [(selectors.local_label(a, ZoneInfo("Europe/Berlin")), who) for a, _b, who in saved][1:6]
    page = client.get(reverse("oncall:schedule", args=[rota.pk])).content.decode()
    assert "An equal start and end runs 24 h from the start" in page


def test_preview_handoffs_across_spring_forward_follow_the_rule():
    # Daily handoffs at 02:30 in New York: on 2027-03-14 the clock skips 02:00-03:00, so that
    # day's handoff is at 03:00 EDT, and the next person still gets a turn.
    spec = LayerSpec(name="Nights", starts_on=date(2027, 3, 1), participants=[(None, 1)], rotation="daily", handoff_time=time(2, 30))
    preview = selectors.layer_preview(spec=spec, time_zone="America/New_York", at=datetime(2027, 3, 12, 12, tzinfo=UTC), count=4)
    assert [row.start for row in preview["handoffs"]] == [
        "Fri 12 Mar 02:30 (UTC-05:00)", "Sat 13 Mar 02:30 (UTC-05:00)", "Sun 14 Mar 03:00 (UTC-04:00)", "Mon 15 Mar 02:30 (UTC-04:00)"]
    assert [row.hours for row in preview["handoffs"]][1:3] == [23.5, 23.5]


def test_preview_of_a_layer_starting_later_shows_its_first_handoff_not_now():
    spec = LayerSpec(name="Later", starts_on=date(2027, 3, 1), participants=[(None, 1)], rotation="daily", handoff_time=time(9))
    preview = selectors.layer_preview(spec=spec, time_zone="Europe/Berlin", at=datetime(2027, 2, 20, tzinfo=UTC), count=2)
    assert [row.start for row in preview["handoffs"]] == ["Mon 01 Mar 09:00 (UTC+01:00)", "Tue 02 Mar 09:00 (UTC+01:00)"]
    running = selectors.layer_preview(spec=spec, time_zone="Europe/Berlin", at=datetime(2027, 3, 5, 12, tzinfo=UTC), count=1)
    assert running["handoffs"][0].start == "Fri 05 Mar 09:00 (UTC+01:00)"  # the turn in force, from its real start
    restricted = LayerSpec(name="Later", starts_on=date(2027, 3, 1), participants=[(None, 1)], rotation="daily",
                           restrictions=[RestrictionSpec([4], time(8), time(18))])
    assert selectors.layer_preview(spec=restricted, time_zone="Europe/Berlin", at=datetime(2027, 3, 5, 12, tzinfo=UTC))["windows"] == []


def test_preview_of_an_absurd_cycle_is_a_form_error_not_a_crash(client, staff, responder):
    rota = make_schedule("Platform", [responder])
    client.force_login(staff)
    layer = rota.layers.get()
    resp = client.post(reverse("oncall:layer_edit", args=[layer.pk]), _layer_post(layer, participants="responder x99999999", preview="1"))
    assert resp.status_code == 200 and "A cycle of at most 10,000 turns can be previewed." in resp.content.decode()
