"""The rotation maths, without a database: DST both ways, restrictions, uneven splits,
weekday-only turns, membership changes, overrides on top, gaps."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from oncall.rotation import DAYS, HOURS, Layer, Membership, Override, Restriction, Schedule, gaps_of, next_change

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = frozenset(range(5))


def at(zone, *args):
    return datetime(*args, tzinfo=zone).astimezone(UTC)


def weekly(zone, anchor, people, **kw):
    return Layer(zone=zone, anchor=anchor, unit=DAYS, length=7, memberships=[Membership(None, tuple(people))], **kw)


def test_weekly_monday_0900_eastern_handoff_stays_at_0900_across_spring_forward():
    # US DST starts Sunday 2026-03-08.
    layer = weekly(NY, datetime(2026, 3, 2, 9, 0), ["a", "b"])
    assert layer.who_at(at(NY, 2026, 3, 9, 8, 59)) == "a"
    assert layer.who_at(at(NY, 2026, 3, 9, 9, 0)) == "b"
    assert layer.turn_start(1) == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)  # EDT: UTC-4
    assert layer.turn_start(0) == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # EST: UTC-5
    (a1, b1, w1), (a2, b2, w2) = layer.shifts(at(NY, 2026, 3, 2, 9), at(NY, 2026, 3, 16, 9))
    assert (w1, w2) == ("a", "b")
    assert b1 - a1 == timedelta(days=7, hours=-1)  # the week that loses an hour
    assert b2 - a2 == timedelta(days=7)


def test_weekly_handoff_across_fall_back_in_berlin():
    # EU DST ends Sunday 2026-10-25.
    layer = weekly(BERLIN, datetime(2026, 10, 19, 9, 0), ["a", "b", "c"])
    shifts = layer.shifts(at(BERLIN, 2026, 10, 19, 9), at(BERLIN, 2026, 11, 2, 9))
    assert [s[2] for s in shifts] == ["a", "b"]
    assert shifts[0][1] - shifts[0][0] == timedelta(days=7, hours=1)  # the week that gains an hour
    assert shifts[0][1] == at(BERLIN, 2026, 10, 26, 9)
    assert layer.who_at(at(BERLIN, 2026, 11, 2, 9)) == "c"


def test_berlin_spring_forward_and_eastern_fall_back_daily():
    berlin = Layer(zone=BERLIN, anchor=datetime(2026, 3, 27, 9), unit=DAYS, length=1, memberships=[Membership(None, ("x", "y"))])
    # 2026-03-29 is the EU spring-forward day: handoffs at 09:00 local each day.
    assert berlin.turn_start(2) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert berlin.turn_start(1) == datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
    ny = Layer(zone=NY, anchor=datetime(2026, 10, 31, 9), unit=DAYS, length=1, memberships=[Membership(None, ("x", "y"))])
    assert ny.who_at(at(NY, 2026, 11, 1, 8, 59)) == "x"
    assert ny.who_at(at(NY, 2026, 11, 1, 9, 0)) == "y"
    assert ny.turn_start(1) - ny.turn_start(0) == timedelta(hours=25)


def test_handoff_inside_the_ambiguous_hour_uses_the_first_occurrence():
    layer = Layer(zone=NY, anchor=datetime(2026, 10, 31, 1, 30), unit=DAYS, length=1, memberships=[Membership(None, ("x", "y"))])
    assert layer.turn_start(1) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    assert layer.who_at(datetime(2026, 11, 1, 6, 30, tzinfo=UTC)) == "y"  # 01:30 EST, same turn


def test_handoff_in_the_spring_forward_gap_moves_to_after_the_jump():
    layer = Layer(zone=NY, anchor=datetime(2026, 3, 7, 2, 30), unit=DAYS, length=1, memberships=[Membership(None, ("x", "y"))])
    # 02:30 does not exist on 2026-03-08: the handoff is the first instant after the gap.
    assert layer.turn_start(1) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT
    assert layer.who_at(datetime(2026, 3, 8, 6, 59, tzinfo=UTC)) == "x"
    assert layer.who_at(datetime(2026, 3, 8, 7, 0, tzinfo=UTC)) == "y"


def test_twelve_hour_turns_keep_local_handoff_times_across_dst():
    layer = Layer(zone=NY, anchor=datetime(2026, 3, 7, 9), unit=HOURS, length=12, memberships=[Membership(None, ("day", "night"))])
    shifts = layer.shifts(at(NY, 2026, 3, 7, 9), at(NY, 2026, 3, 9, 9))
    assert [(s[0].astimezone(NY).hour, s[2]) for s in shifts] == [(9, "day"), (21, "night"), (9, "day"), (21, "night")]
    assert shifts[1][1] - shifts[1][0] == timedelta(hours=11)


def test_before_the_rotation_starts_nobody_is_on_call():
    layer = weekly(NY, datetime(2026, 3, 2, 9), ["a"])
    assert layer.who_at(at(NY, 2026, 3, 2, 8, 59)) is None
    assert layer.shifts(at(NY, 2026, 2, 1), at(NY, 2026, 3, 2, 9)) == []


def test_uneven_split_four_on_three_off():
    # daily turns; slots: a for 4 turns, then 3 turns off.
    layer = Layer(zone=BERLIN, anchor=datetime(2026, 1, 5, 8), unit=DAYS, length=1,
                  memberships=[Membership(None, ("a",) * 4 + (None,) * 3)])
    days = [layer.who_at(at(BERLIN, 2026, 1, 5 + d, 12)) for d in range(14)]
    assert days == ["a"] * 4 + [None] * 3 + ["a"] * 4 + [None] * 3
    shifts = layer.shifts(at(BERLIN, 2026, 1, 5, 8), at(BERLIN, 2026, 1, 19, 8))
    assert [(s[0], s[1]) for s in shifts] == [
        (at(BERLIN, 2026, 1, 5, 8), at(BERLIN, 2026, 1, 9, 8)), (at(BERLIN, 2026, 1, 12, 8), at(BERLIN, 2026, 1, 16, 8))]


def test_uneven_split_between_two_people():
    layer = Layer(zone=NY, anchor=datetime(2026, 1, 5, 9), unit=DAYS, length=1, memberships=[Membership(None, ("a",) * 4 + ("b",) * 3)])
    assert [layer.who_at(at(NY, 2026, 1, 5 + d, 10)) for d in range(8)] == ["a"] * 4 + ["b"] * 3 + ["a"]


def test_weekday_only_rotation_skips_weekends():
    # Monday 2026-01-05; Friday's person holds until Monday's handoff; turns only count Mon-Fri.
    layer = Layer(zone=NY, anchor=datetime(2026, 1, 5, 9), unit=DAYS, length=1, weekdays=WEEKDAYS,
                  memberships=[Membership(None, ("a", "b", "c"))])
    week = [layer.who_at(at(NY, 2026, 1, d, 10)) for d in range(5, 13)]
    # Mon a, Tue b, Wed c, Thu a, Fri b, Sat b, Sun b, Mon c
    assert week == ["a", "b", "c", "a", "b", "b", "b", "c"]
    assert layer.who_at(at(NY, 2026, 1, 12, 8, 59)) == "b"
    assert layer.turn_start(5) == at(NY, 2026, 1, 12, 9)


def test_weekday_only_with_restriction_leaves_weekends_empty():
    layer = Layer(zone=NY, anchor=datetime(2026, 1, 5, 0), unit=DAYS, length=1, weekdays=WEEKDAYS,
                  memberships=[Membership(None, ("a", "b"))], restrictions=[Restriction(WEEKDAYS, time(0), time(0))])
    assert layer.who_at(at(NY, 2026, 1, 10, 12)) is None
    assert layer.who_at(at(NY, 2026, 1, 9, 12)) == "a"  # Mon a, Tue b, Wed a, Thu b, Fri a


def test_business_hours_restriction():
    hours = Restriction(WEEKDAYS, time(9), time(17))
    layer = weekly(NY, datetime(2026, 1, 5, 9), ["a"], restrictions=[hours])
    assert layer.who_at(at(NY, 2026, 1, 6, 8, 59)) is None
    assert layer.who_at(at(NY, 2026, 1, 6, 9)) == "a"
    assert layer.who_at(at(NY, 2026, 1, 6, 17)) is None
    assert layer.who_at(at(NY, 2026, 1, 10, 12)) is None  # Saturday
    shifts = layer.shifts(at(NY, 2026, 1, 5), at(NY, 2026, 1, 12))
    assert len(shifts) == 5
    assert all(b - a == timedelta(hours=8) for a, b, _ in shifts)


def test_overnight_restriction_crosses_midnight_and_dst():
    nights = Restriction(frozenset(range(7)), time(18), time(8))
    layer = weekly(NY, datetime(2026, 3, 2, 9), ["a"], restrictions=[nights])
    assert layer.who_at(at(NY, 2026, 3, 3, 7, 59)) == "a"
    assert layer.who_at(at(NY, 2026, 3, 3, 8)) is None
    shifts = layer.shifts(at(NY, 2026, 3, 7, 12), at(NY, 2026, 3, 8, 12))
    assert shifts == [(at(NY, 2026, 3, 7, 18), at(NY, 2026, 3, 8, 8), "a")]
    assert shifts[0][1] - shifts[0][0] == timedelta(hours=13)  # the night that loses an hour


def test_membership_change_from_a_future_date_keeps_history():
    change = at(NY, 2026, 2, 2, 9)
    layer = Layer(zone=NY, anchor=datetime(2026, 1, 5, 9), unit=DAYS, length=7,
                  memberships=[Membership(None, ("a", "b")), Membership(change, ("c", "d", "e"))])
    assert [layer.who_at(at(NY, 2026, 1, 5 + 7 * w, 10)) for w in range(4)] == ["a", "b", "a", "b"]
    assert [layer.who_at(at(NY, 2026, 2, 2 + 7 * w, 10)) for w in range(4)] == ["c", "d", "e", "c"]
    shifts = layer.shifts(at(NY, 2026, 1, 26, 9), at(NY, 2026, 2, 16, 9))
    assert [s[2] for s in shifts] == ["b", "c", "d"]


def test_membership_change_mid_turn_takes_effect_at_that_instant():
    change = at(NY, 2026, 1, 7, 12)
    layer = Layer(zone=NY, anchor=datetime(2026, 1, 5, 9), unit=DAYS, length=7,
                  memberships=[Membership(None, ("a",)), Membership(change, ("z",))])
    assert layer.shifts(at(NY, 2026, 1, 5, 9), at(NY, 2026, 1, 12, 9)) == [
        (at(NY, 2026, 1, 5, 9), change, "a"), (change, at(NY, 2026, 1, 12, 9), "z")]


def _two_layer_schedule(overrides=()):
    primary = weekly(NY, datetime(2026, 1, 5, 9), ["a", "b"], key="primary",
                     restrictions=[Restriction(WEEKDAYS, time(9), time(17))])
    secondary = weekly(NY, datetime(2026, 1, 5, 9), ["c", "d"], key="secondary")
    return Schedule(layers=[primary, secondary], overrides=overrides)


def test_first_layer_wins_and_the_next_fills_its_gaps():
    schedule = _two_layer_schedule()
    assert schedule.who_at(at(NY, 2026, 1, 6, 10)) == "a"
    assert schedule.who_at(at(NY, 2026, 1, 6, 20)) == "c"
    assert schedule.who_at(at(NY, 2026, 1, 13, 10)) == "b"
    final = schedule.shifts(at(NY, 2026, 1, 6), at(NY, 2026, 1, 7))
    assert [(s[0].astimezone(NY).hour, s[2]) for s in final] == [(0, "c"), (9, "a"), (17, "c")]
    assert schedule.gaps(at(NY, 2026, 1, 6), at(NY, 2026, 1, 7)) == []


def test_schedule_override_on_top_and_replacement_override_only_where_replaced_is_on():
    swap = Override(at(NY, 2026, 1, 6, 12), at(NY, 2026, 1, 6, 14), "x")
    vacation = Override(at(NY, 2026, 1, 12, 9), at(NY, 2026, 1, 19, 9), "v", replaces="b")
    schedule = _two_layer_schedule([swap, vacation])
    assert schedule.who_at(at(NY, 2026, 1, 6, 13)) == "x"
    assert schedule.who_at(at(NY, 2026, 1, 6, 14)) == "a"
    assert schedule.who_at(at(NY, 2026, 1, 13, 10)) == "v"  # b's business hours
    assert schedule.who_at(at(NY, 2026, 1, 13, 20)) == "d"  # secondary's d untouched
    final = schedule.shifts(at(NY, 2026, 1, 6, 9), at(NY, 2026, 1, 6, 17))
    assert [s[2] for s in final] == ["a", "x", "a"]
    primary = schedule.layers[0]
    assert schedule.layer_who_at(primary, at(NY, 2026, 1, 14, 10)) == "v"


def test_layer_override_applies_to_that_layer_only():
    cover = Override(at(NY, 2026, 1, 6, 0), at(NY, 2026, 1, 7, 0), "s", layer="secondary")
    schedule = _two_layer_schedule([cover])
    assert schedule.layer_who_at(schedule.layers[1], at(NY, 2026, 1, 6, 10)) == "s"
    assert schedule.who_at(at(NY, 2026, 1, 6, 10)) == "a"
    assert schedule.who_at(at(NY, 2026, 1, 6, 20)) == "s"


def test_gaps_are_reported_and_an_override_can_fill_one():
    layer = weekly(NY, datetime(2026, 1, 5, 9), ["a"], restrictions=[Restriction(WEEKDAYS, time(9), time(17))])
    schedule = Schedule(layers=[layer])
    gaps = schedule.gaps(at(NY, 2026, 1, 6, 0), at(NY, 2026, 1, 7, 0))
    assert gaps == [(at(NY, 2026, 1, 6, 0), at(NY, 2026, 1, 6, 9)), (at(NY, 2026, 1, 6, 17), at(NY, 2026, 1, 7, 0))]
    filled = Schedule(layers=[layer], overrides=[Override(at(NY, 2026, 1, 6, 17), at(NY, 2026, 1, 7, 0), "n")])
    assert filled.gaps(at(NY, 2026, 1, 6, 9), at(NY, 2026, 1, 7, 0)) == []
    assert gaps_of([], at(NY, 2026, 1, 6), at(NY, 2026, 1, 7)) == [(at(NY, 2026, 1, 6), at(NY, 2026, 1, 7))]


def test_next_change_names_the_next_person_or_a_gap():
    schedule = _two_layer_schedule()
    assert next_change(schedule, at(NY, 2026, 1, 6, 10)) == (at(NY, 2026, 1, 6, 17), "c")
    lonely = Schedule(layers=[weekly(NY, datetime(2026, 1, 5, 9), ["a"], restrictions=[Restriction(WEEKDAYS, time(9), time(17))])])
    assert next_change(lonely, at(NY, 2026, 1, 6, 10)) == (at(NY, 2026, 1, 6, 17), None)
    assert next_change(lonely, at(NY, 2026, 1, 6, 18)) == (at(NY, 2026, 1, 7, 9), "a")


@pytest.mark.parametrize("zone", [NY, BERLIN])
def test_who_at_agrees_with_shifts_every_fifteen_minutes_over_both_dst_changes(zone):
    layer = Layer(zone=zone, anchor=datetime(2026, 1, 1, 9), unit=HOURS, length=30,
                  memberships=[Membership(None, ("a", "b", None, "c"))],
                  restrictions=[Restriction(frozenset({0, 2, 4, 6}), time(22), time(6)), Restriction(frozenset({1, 3}), time(8), time(20))])
    schedule = Schedule(layers=[layer], overrides=[Override(at(zone, 2026, 3, 28), at(zone, 2026, 3, 30), "o", replaces="b")])
    for start in (at(zone, 2026, 3, 5), at(zone, 2026, 3, 26), at(zone, 2026, 10, 22), at(zone, 2026, 10, 30)):
        end = start + timedelta(days=6)
        pieces = schedule.shifts(start, end)
        t = start
        while t < end:
            expect = next((w for a, b, w in pieces if a <= t < b), None)
            assert schedule.who_at(t) == expect, t
            t += timedelta(minutes=15)


def test_layer_rejects_weekday_filter_on_hour_turns():
    with pytest.raises(ValueError):
        Layer(zone=NY, anchor=datetime(2026, 1, 5), unit=HOURS, length=8, weekdays=WEEKDAYS)
