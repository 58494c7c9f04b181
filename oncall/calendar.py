"""iCalendar feeds of shifts (RFC 5545, written with the `icalendar` library). Names are one
line without control characters before the library escapes them (`delivery.safetext`): a
schedule or person called anything still gives a feed every calendar parses."""

from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from delivery import safetext

from . import selectors

PAST, AHEAD = timedelta(days=7), timedelta(days=60)


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//Incident Portal//On-call//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", safetext.line(name, 500))
    return cal


def _event(schedule, start, end, user, stamp) -> Event:
    name = user.get_full_name() or user.username if user else "Nobody"
    event = Event()
    event.add("uid", f"oncall-{schedule.pk}-{user.pk if user else 0}-{int(start.timestamp())}@incident-portal")
    event.add("summary", safetext.line(f"On call: {schedule.name} ({name})", 500))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("dtstamp", stamp)
    event.add("url", settings.SITE_URL + reverse("oncall:schedule", args=[schedule.pk]))
    return event


def schedule_feed(schedule) -> bytes:
    now = timezone.now()
    cal = _calendar(f"On call: {schedule.name}")
    for start, end, user in selectors.schedule_shifts(schedule, now - PAST, now + AHEAD):
        cal.add_component(_event(schedule, start, end, user, now))
    return cal.to_ical()


def user_feed(user) -> bytes:
    now = timezone.now()
    cal = _calendar(f"My on-call shifts ({user.get_full_name() or user.username})")
    for shift in selectors.shifts_for_user(user, now - PAST, now + AHEAD):
        cal.add_component(_event(shift.schedule, shift.start, shift.end, user, now))
    return cal.to_ical()
