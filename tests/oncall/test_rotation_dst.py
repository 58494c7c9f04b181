"""One answer to "who is on call": restriction windows with equal ends or edges in a
daylight-saving change read the same by `who_at` and `shifts`, and no turn is lost to a
daylight-saving gap (each handoff moves to the next person)."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from oncall.rotation import DAYS, HOURS, Layer, Membership, Override, Restriction, Schedule, to_utc

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # +10:30 / +11: a 30-minute change
WEEKDAYS = frozenset(range(5))


def at(zone, *args, fold=0):
    return datetime(*args, tzinfo=zone, fold=fold).astimezone(UTC)


def local(instant, zone):
    return instant.astimezone(zone).replace(tzinfo=None)


def agree(schedule, start, end, step=timedelta(minutes=5)):
    """who_at(t) is the shift containing t, every `step` over [start, end)."""
    pieces = schedule.shifts(start, end)
    t = start
    while t < end:
        assert schedule.who_at(t) == next((w for a, b, w in pieces if a <= t < b), None), t
        t += step


# --- the two window cases of the issue ----------------------------------------------------


def test_equal_start_and_end_at_0800_runs_24_hours_from_the_start_for_the_pager_too():
    # Mon-Fri 08:00-08:00: Monday 08:00 to Tuesday 08:00 ... Friday 08:00 to Saturday 08:00.
    primary = Layer(zone=NY, anchor=datetime(2026, 1, 5, 9), unit=DAYS, length=7, key="p",
                    memberships=[Membership(None, ("a",))], restrictions=[Restriction(WEEKDAYS, time(8), time(8))])
    backup = Layer(zone=NY, anchor=datetime(2026, 1, 5, 9), unit=DAYS, length=7, key="b", memberships=[Membership(None, ("z",))])
    schedule = Schedule(layers=[primary, backup])
    monday_7 = at(NY, 2026, 1, 12, 7)  # Sunday's window does not exist: the backup is on call
    assert schedule.who_at(monday_7) == "z"
    assert schedule.layer_who_at(primary, monday_7) is None
    assert schedule.who_at(at(NY, 2026, 1, 12, 8)) == "a"
    assert schedule.who_at(at(NY, 2026, 1, 17, 7, 59)) == "a"  # Saturday morning: Friday's window
    assert schedule.who_at(at(NY, 2026, 1, 17, 8)) == "z"
    final = schedule.shifts(at(NY, 2026, 1, 11), at(NY, 2026, 1, 18))
    assert final == [(at(NY, 2026, 1, 11), at(NY, 2026, 1, 12, 8), "z"), (at(NY, 2026, 1, 12, 8), at(NY, 2026, 1, 17, 8), "a"),
                     (at(NY, 2026, 1, 17, 8), at(NY, 2026, 1, 18), "z")]
    agree(schedule, at(NY, 2026, 1, 11), at(NY, 2026, 1, 18), step=timedelta(minutes=30))


def test_equal_start_and_end_over_a_dst_change_runs_to_the_same_time_next_day():
    layer = Layer(zone=NY, anchor=datetime(2026, 3, 2, 9), unit=DAYS, length=7, memberships=[Membership(None, ("a",))],
                  restrictions=[Restriction(frozenset({5}), time(20), time(20))])  # Saturday 20:00 to Sunday 20:00
    (a, b, who), = layer.shifts(at(NY, 2026, 3, 7), at(NY, 2026, 3, 9))
    assert (a, b, who) == (at(NY, 2026, 3, 7, 20), at(NY, 2026, 3, 8, 20), "a")
    assert b - a == timedelta(hours=23)
    assert layer.who_at(at(NY, 2026, 3, 8, 19, 59)) == "a"
    assert layer.who_at(at(NY, 2026, 3, 8, 20)) is None


def test_window_opening_inside_the_spring_forward_gap_opens_at_the_end_of_the_gap_everywhere():
    # 2026-03-08 02:30 does not exist in New York: the clock jumps from 02:00 EST to 03:00 EDT.
    layer = Layer(zone=NY, anchor=datetime(2026, 3, 2, 9), unit=DAYS, length=7, memberships=[Membership(None, ("a",))],
                  restrictions=[Restriction(frozenset(range(7)), time(2, 30), time(6))])
    schedule = Schedule(layers=[layer])
    opens = datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT, the first instant after the gap
    assert schedule.shifts(at(NY, 2026, 3, 8), at(NY, 2026, 3, 8, 12)) == [(opens, at(NY, 2026, 3, 8, 6), "a")]
    assert schedule.who_at(opens - timedelta(microseconds=1)) is None
    assert schedule.who_at(opens + timedelta(minutes=15)) == "a"
    agree(schedule, at(NY, 2026, 3, 7), at(NY, 2026, 3, 9))


def test_window_ending_inside_the_repeated_fall_back_hour_ends_at_its_first_occurrence_everywhere():
    # 2026-11-01 01:30 happens twice in New York (EDT, then EST): the window ends at the first.
    layer = Layer(zone=NY, anchor=datetime(2026, 10, 26, 9), unit=DAYS, length=7, memberships=[Membership(None, ("a",))],
                  restrictions=[Restriction(frozenset({5}), time(22), time(1, 30))])
    schedule = Schedule(layers=[layer])
    ends = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    assert schedule.shifts(at(NY, 2026, 10, 31), at(NY, 2026, 11, 2)) == [(at(NY, 2026, 10, 31, 22), ends, "a")]
    assert schedule.who_at(ends - timedelta(microseconds=1)) == "a"
    assert schedule.who_at(at(NY, 2026, 11, 1, 1, 15, fold=1)) is None  # 01:15 EST, the second time round
    agree(schedule, at(NY, 2026, 10, 31), at(NY, 2026, 11, 2))


def test_overrides_and_layer_precedence_agree_with_the_shifts_around_the_edges():
    primary = Layer(zone=BERLIN, anchor=datetime(2026, 3, 23, 2, 30), unit=HOURS, length=5, key="p",
                    memberships=[Membership(None, ("a", None, "b"))], restrictions=[Restriction(frozenset({6}), time(2, 15), time(2, 15))])
    backup = Layer(zone=BERLIN, anchor=datetime(2026, 3, 23, 2, 30), unit=DAYS, length=1, key="s",
                   memberships=[Membership(None, ("c", "d"))])
    overrides = [Override(at(BERLIN, 2026, 3, 29, 3, 10), at(BERLIN, 2026, 3, 29, 9), "o", replaces="b"),
                 Override(at(BERLIN, 2026, 3, 29, 12), at(BERLIN, 2026, 3, 29, 13), "x", layer="s")]
    agree(Schedule(layers=[primary, backup], overrides=overrides), at(BERLIN, 2026, 3, 28), at(BERLIN, 2026, 3, 31), timedelta(minutes=10))


# --- nobody loses a turn to daylight saving -------------------------------------------------

# (zone, spring-forward day, a local time inside its gap, fall-back day, a local time inside its repeated hour)
TRANSITIONS = [
    (NY, datetime(2026, 3, 8), time(2, 0), datetime(2026, 11, 1), time(1, 0)),
    (BERLIN, datetime(2026, 3, 29), time(2, 0), datetime(2026, 10, 25), time(2, 0)),
    (LORD_HOWE, datetime(2026, 10, 4), time(2, 0), datetime(2026, 4, 5), time(1, 30)),
    (ZoneInfo("America/St_Johns"), datetime(2026, 3, 8), time(2, 0), datetime(2026, 11, 1), time(1, 0)),
]


def first_instant_showing(wall, zone):
    """The documented rule, checked by brute force: the first instant at which the zone's clock
    shows `wall` or later (minute steps over the day before, then to the microsecond)."""
    t = datetime.combine(wall.date(), wall.time(), tzinfo=UTC) - timedelta(hours=16)
    while local(t, zone) < wall:
        t += timedelta(minutes=1)
    while local(t - timedelta(microseconds=1), zone) >= wall:
        t -= timedelta(microseconds=1)
    return t


def turns(layer, start, end):
    """(start, who) of each turn in [start, end), read from the layer's own shifts per instant."""
    out = []
    for k in range(layer.turn_index(start), layer.turn_index(end) + 1):
        s = layer.turn_start(k)
        if start <= s < end and (not out or out[-1][0] != s):
            out.append((s, layer.who_at(s)))
    return out


@pytest.mark.parametrize("zone, spring, gap_time, fall, repeated_time", TRANSITIONS, ids=lambda v: getattr(v, "key", None))
@pytest.mark.parametrize("kind", ["hourly", "daily", "weekly"])
@pytest.mark.parametrize("day", ["spring", "fall"])
def test_each_handoff_moves_to_the_next_person_on_both_transition_days(zone, spring, gap_time, fall, repeated_time, kind, day):
    when = datetime.combine((spring if day == "spring" else fall).date(), gap_time if day == "spring" else repeated_time)
    unit, length, back = {"hourly": (HOURS, 1, timedelta(hours=6)), "daily": (DAYS, 1, timedelta(days=3)),
                          "weekly": (DAYS, 7, timedelta(weeks=3))}[kind]
    # The rotation starts a few turns before the transition and hands off exactly at `when`.
    layer = Layer(zone=zone, anchor=when - back, unit=unit, length=length, memberships=[Membership(None, ("a", "b", "c"))])
    start = to_utc(when - back, zone)
    seen = turns(layer, start, start + 2 * (to_utc(when, zone) - start) + timedelta(hours=4))
    people = [who for _, who in seen]
    assert people == (["a", "b", "c"] * 10)[:len(people)], seen  # nobody skipped, nobody twice
    assert len(seen) >= 2 * back / (timedelta(hours=1) if unit == HOURS else timedelta(days=length))
    for n, (instant, _) in enumerate(seen):  # every handoff lands where the rule says
        wall = layer.turn_start_local(n) if unit == DAYS else None
        assert wall is None or instant == first_instant_showing(wall, zone)
    handoff = to_utc(when, zone)
    assert handoff == first_instant_showing(when, zone)
    assert handoff in [s for s, _ in seen]
    assert all(b > a for (a, _), (b, _) in zip(seen, seen[1:], strict=False))


def test_hourly_rotation_starting_at_0200_on_spring_forward_day_gives_a_its_turn():
    layer = Layer(zone=NY, anchor=datetime(2026, 3, 8, 2), unit=HOURS, length=1, memberships=[Membership(None, ("a", "b"))])
    first = datetime(2026, 3, 8, 7, tzinfo=UTC)  # 03:00 EDT, the first instant after the gap
    assert layer.shifts(first, first + timedelta(hours=3)) == [
        (first, first + timedelta(hours=1), "a"), (first + timedelta(hours=1), first + timedelta(hours=2), "b"),
        (first + timedelta(hours=2), first + timedelta(hours=3), "a")]
    assert layer.who_at(first) == "a"


def test_hourly_turns_through_the_gap_keep_the_order_and_lose_no_one():
    # Handoffs every hour from midnight: the 02:00 handoff does not exist and lands at 03:00
    # EDT together with the 03:00 one: one handoff, to the next person.
    layer = Layer(zone=NY, anchor=datetime(2026, 3, 7, 22), unit=HOURS, length=1, memberships=[Membership(None, ("a", "b", "c"))])
    seen = [(local(a, NY).strftime("%H:%M"), who) for a, b, who in layer.shifts(at(NY, 2026, 3, 7, 22), at(NY, 2026, 3, 8, 6))]
    assert seen == [("22:00", "a"), ("23:00", "b"), ("00:00", "c"), ("01:00", "a"), ("03:00", "b"), ("04:00", "c"),
                    ("05:00", "a")]


def test_lord_howe_half_hour_gap_gives_the_turn_in_the_gap_thirty_minutes():
    layer = Layer(zone=LORD_HOWE, anchor=datetime(2026, 10, 3, 22), unit=HOURS, length=1, memberships=[Membership(None, ("a", "b"))])
    shifts = layer.shifts(at(LORD_HOWE, 2026, 10, 4, 1), at(LORD_HOWE, 2026, 10, 4, 4))
    assert [(local(a, LORD_HOWE).strftime("%H:%M"), b - a, who) for a, b, who in shifts] == [
        ("01:00", timedelta(hours=1), "b"), ("02:30", timedelta(minutes=30), "a"), ("03:00", timedelta(hours=1), "b")]


def test_membership_change_after_a_collapsed_handoff_starts_with_its_first_slot():
    change = at(NY, 2026, 3, 8, 5)
    layer = Layer(zone=NY, anchor=datetime(2026, 3, 8, 0), unit=HOURS, length=1,
                  memberships=[Membership(None, ("a", "b")), Membership(change, ("x", "y", "z"))])
    assert [w for _, _, w in layer.shifts(at(NY, 2026, 3, 8, 4), at(NY, 2026, 3, 8, 8))] == ["b", "x", "y", "z"]


# --- far dates do not crash ----------------------------------------------------------------


@pytest.mark.parametrize("zone", [NY, ZoneInfo("Asia/Tokyo"), ZoneInfo("Pacific/Chatham")])
def test_far_dates_answer_instead_of_crashing(zone):
    layer = Layer(zone=zone, anchor=datetime(2026, 1, 5, 9), unit=HOURS, length=1, key="p",
                  memberships=[Membership(None, ("a", "b"))], restrictions=[Restriction(frozenset(range(7)), time(22), time(6))])
    far = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    schedule = Schedule(layers=[layer], overrides=[Override(at(NY, 2026, 2, 1), far, "o", replaces="a")])
    schedule.shifts(datetime(9999, 12, 1, tzinfo=UTC), far)
    schedule.who_at(far)
    schedule.who_at(datetime.max.replace(tzinfo=UTC))
    assert schedule.shifts(datetime.min.replace(tzinfo=UTC), datetime(1, 1, 9, tzinfo=UTC)) == []
    early = Layer(zone=zone, anchor=datetime(1, 1, 1), unit=DAYS, length=1, memberships=[Membership(None, ("a",))])
    assert early.who_at(datetime(1, 1, 3, tzinfo=UTC)) == "a"


def test_a_skipped_calendar_day_does_not_skip_a_person():
    # Samoa skipped 2011-12-30 entirely: the midnight handoffs of the 30th and the 31st are one
    # instant, so one handoff, to the next person.
    apia = ZoneInfo("Pacific/Apia")
    layer = Layer(zone=apia, anchor=datetime(2011, 12, 28), unit=DAYS, length=1, memberships=[Membership(None, ("a", "b", "c"))])
    shifts = layer.shifts(at(apia, 2011, 12, 28), at(apia, 2012, 1, 2))
    assert [(local(a, apia).date().isoformat(), who) for a, _b, who in shifts] == [
        ("2011-12-28", "a"), ("2011-12-29", "b"), ("2011-12-31", "c"), ("2012-01-01", "a")]
