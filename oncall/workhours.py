"""Working hours: when a low-urgency incident may reach a person, and the business hours its
acknowledge clock counts. One home for both rules.

A period starts on each of `days` (ISO weekdays) at `start` in `zone` and ends at `end` the
same day, or the next day when `end` is not after `start` (a night shift). All arithmetic is in
UTC on the periods' real instants, so a daylight-saving change neither adds nor loses an hour of
work. No days at all means no restriction (every instant is working time).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from incidents.exceptions import InvalidInput
from incidents.zones import portal_zone, zone_or_none

from .models import LayerMember, Profile

DEFAULT_DAYS = "12345"
DEFAULT_START, DEFAULT_END = time(9), time(17)
HORIZON_DAYS = 3660  # a search gives up after ten years of days (no working day would be found)


@dataclass(frozen=True)
class WorkingHours:
    zone: ZoneInfo
    days: frozenset[int]
    start: time = DEFAULT_START
    end: time = DEFAULT_END

    def _period(self, day: date) -> tuple[datetime, datetime]:
        begin = datetime.combine(day, self.start, self.zone).astimezone(UTC)
        end_day = day if self.end > self.start else day + timedelta(days=1)
        return begin, datetime.combine(end_day, self.end, self.zone).astimezone(UTC)

    def periods(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The working periods that end after `at`, in order (from the one that may hold it)."""
        day = at.astimezone(self.zone).date() - timedelta(days=1)  # yesterday's night shift may still run
        for _ in range(HORIZON_DAYS):
            if day.isoweekday() in self.days:
                begin, end = self._period(day)
                if end > at:
                    yield begin, end
            day += timedelta(days=1)

    def contains(self, at: datetime) -> bool:
        return self.next_start(at) == at

    def next_start(self, at: datetime) -> datetime:
        """`at` when it is working time, else the start of the next working period."""
        if not self.days:
            return at
        begin, _end = next(self.periods(at), (at, at))
        return max(begin, at)

    def add(self, at: datetime, seconds: float) -> datetime:
        """The instant `seconds` of working time after `at` (the clock stops outside the hours)."""
        if not self.days or seconds <= 0:
            return at if seconds <= 0 else at + timedelta(seconds=seconds)
        left = timedelta(seconds=seconds)
        for begin, end in self.periods(at):
            begin = max(begin, at)
            if left <= end - begin:
                return begin + left
            left -= end - begin
        return at + timedelta(seconds=seconds)  # no working day in the horizon: plain time

    def describe(self) -> str:
        names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        days = ", ".join(names[d - 1] for d in sorted(self.days)) or "every day"
        return f"{days} {self.start:%H:%M}–{self.end:%H:%M} ({self.zone.key})"


def clean_days(value) -> str:
    """ISO weekday digits, sorted and once each ("12345"), from a string or a list of numbers;
    InvalidInput naming `working_days` otherwise."""
    items = list(str(value)) if isinstance(value, str | int) else list(value or [])
    try:
        days = sorted({int(d) for d in items if str(d).strip()})
    except (TypeError, ValueError):
        days = [0]
    if not days or any(d < 1 or d > 7 for d in days):
        raise InvalidInput("Working days are ISO weekdays 1 (Monday) to 7 (Sunday), at least one.", field="working_days")
    return "".join(str(d) for d in days)


def clean_period(start: time, end: time) -> None:
    if start == end:
        raise InvalidInput("A working period needs different start and end times.", field="working_end")


def parse(spec: str, zone: ZoneInfo) -> WorkingHours:
    """`"12345 09:00-17:00"` (settings.ONCALL_BUSINESS_HOURS) in `zone`."""
    try:
        days, hours = spec.split()
        first, last = (time.fromisoformat(part) for part in hours.split("-"))
        return WorkingHours(zone=zone, days=frozenset(int(d) for d in clean_days(days)), start=first, end=last)
    except (ValueError, InvalidInput) as exc:
        raise ValueError(f"Business hours must read like '12345 09:00-17:00', not {spec!r}.") from exc


def business_hours() -> WorkingHours:
    """What a low-urgency incident's acknowledge clock counts (settings.ONCALL_BUSINESS_HOURS,
    in the portal's zone)."""
    return parse(settings.ONCALL_BUSINESS_HOURS, portal_zone())


def _zone(user, profile: Profile | None) -> ZoneInfo:
    """The person's own zone, else the zone of a schedule they are on (the earliest made), else
    the portal's."""
    zone = zone_or_none(profile.time_zone) if profile and profile.time_zone else None
    if zone is None:
        name = (LayerMember.objects.filter(user=user).order_by("membership__layer__schedule_id")
                .values_list("membership__layer__schedule__time_zone", flat=True).first())
        zone = zone_or_none(name) if name else None
    return zone or portal_zone()


def for_person(user) -> WorkingHours:
    """The person's working hours in their zone (the defaults for someone with no profile)."""
    profile = Profile.objects.filter(user=user).first()
    if profile is None:
        return WorkingHours(zone=_zone(user, None), days=frozenset(int(d) for d in DEFAULT_DAYS))
    return WorkingHours(zone=_zone(user, profile), days=frozenset(int(d) for d in profile.working_days if d.isdigit()),
                        start=profile.working_start, end=profile.working_end)
