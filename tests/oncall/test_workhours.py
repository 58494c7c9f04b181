"""Working hours (oncall.workhours): when a low-urgency incident may reach a person, and the
business hours its acknowledge clock counts; night shifts, daylight saving, people's zones."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incidents.exceptions import InvalidInput
from oncall import workhours
from oncall.workhours import WorkingHours

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = frozenset({1, 2, 3, 4, 5})


def berlin(*args):
    return datetime(*args, tzinfo=BERLIN)


OFFICE = WorkingHours(zone=BERLIN, days=WEEKDAYS, start=time(9), end=time(17))


def test_inside_and_outside_the_hours():
    assert OFFICE.contains(berlin(2026, 12, 2, 10))  # a Wednesday
    assert not OFFICE.contains(berlin(2026, 12, 2, 2))
    assert not OFFICE.contains(berlin(2026, 12, 2, 17))  # the end is not working time
    assert not OFFICE.contains(berlin(2026, 12, 5, 10))  # Saturday


def test_next_start_is_now_inside_else_the_next_working_morning():
    at = berlin(2026, 12, 2, 10, 30)
    assert OFFICE.next_start(at) == at
    assert OFFICE.next_start(berlin(2026, 12, 2, 2)) == berlin(2026, 12, 2, 9)
    assert OFFICE.next_start(berlin(2026, 12, 4, 18)) == berlin(2026, 12, 7, 9)  # Friday evening -> Monday


def test_adding_business_time_stops_the_clock_outside_the_hours():
    assert OFFICE.add(berlin(2026, 12, 2, 16, 50), 30 * 60) == berlin(2026, 12, 3, 9, 20)
    assert OFFICE.add(berlin(2026, 12, 2, 2), 15 * 60) == berlin(2026, 12, 2, 9, 15)
    assert OFFICE.add(berlin(2026, 12, 4, 16), 2 * 3600) == berlin(2026, 12, 7, 10)  # over the weekend
    assert OFFICE.add(berlin(2026, 12, 2, 2), 0) == berlin(2026, 12, 2, 2)


def test_a_night_shift_runs_past_midnight():
    nights = WorkingHours(zone=BERLIN, days=frozenset({1}), start=time(22), end=time(6))
    assert nights.contains(berlin(2026, 11, 30, 23))  # Monday night
    assert nights.contains(berlin(2026, 12, 1, 5))  # Tuesday early, still Monday's shift
    assert not nights.contains(berlin(2026, 12, 1, 23))
    assert nights.next_start(berlin(2026, 12, 1, 7)) == berlin(2026, 12, 7, 22)


def test_daylight_saving_neither_adds_nor_loses_an_hour_of_work():
    # 29 March 2026: Berlin goes from 02:00 to 03:00. A 09:00 start is 08:00 UTC before, 07:00 UTC after.
    assert OFFICE.next_start(berlin(2026, 3, 27, 20)) == datetime(2026, 3, 30, 7, tzinfo=UTC)
    assert OFFICE.add(berlin(2026, 3, 27, 16), 2 * 3600) == berlin(2026, 3, 30, 10)


def test_no_working_days_means_no_restriction():
    always = WorkingHours(zone=BERLIN, days=frozenset())
    at = berlin(2026, 12, 6, 3)
    assert always.contains(at) and always.next_start(at) == at and always.add(at, 60) == at + timedelta(seconds=60)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)),
       st.integers(min_value=0, max_value=30 * 24 * 3600))
def test_business_time_is_never_earlier_than_wall_time_and_lands_in_the_hours(at, seconds):
    end = OFFICE.add(at, seconds)
    assert end >= at + timedelta(seconds=seconds) or seconds == 0
    start = OFFICE.next_start(at)
    assert start >= at and OFFICE.contains(start)
    if seconds:
        local = end.astimezone(BERLIN)
        assert local.isoweekday() in WEEKDAYS and time(9) < local.time() <= time(17)


def test_days_are_cleaned_or_refused_naming_the_field():
    assert workhours.clean_days("5432111") == "12345"
    assert workhours.clean_days([6, 7]) == "67"
    for bad in ("", "8", "mon", [0]):
        with pytest.raises(InvalidInput) as refused:
            workhours.clean_days(bad)
        assert refused.value.field == "working_days"


def test_business_hours_setting_is_parsed(settings):
    settings.ONCALL_BUSINESS_HOURS = "67 10:00-14:00"
    hours = workhours.business_hours()
    assert hours.days == frozenset({6, 7}) and hours.start == time(10) and hours.end == time(14)
    settings.ONCALL_BUSINESS_HOURS = "weekdays"
    with pytest.raises(ValueError, match="12345 09:00-17:00"):
        workhours.business_hours()
