"""The iCalendar feed of game days (RFC 5545, the `icalendar` library, as the on-call feeds in
`oncall.calendar`): every game day from a while back on, a cancelled one marked CANCELLED so
subscribed calendars drop it. Text is one safe line (or safe text) before the library escapes it."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from delivery import safetext

from .models import GameDay, GameDayStatus

PAST = timedelta(days=180)
STATUS = {GameDayStatus.CANCELLED: "CANCELLED", GameDayStatus.PLANNED: "CONFIRMED", GameDayStatus.RUNNING: "CONFIRMED",
          GameDayStatus.DONE: "CONFIRMED"}


def _who(user) -> str:
    return safetext.line(user.get_full_name() or user.get_username(), 200).replace('"', "'")


def _event(game_day: GameDay, stamp) -> Event:
    event = Event()
    host = settings.SITE_URL.split("://", 1)[-1]
    url = settings.SITE_URL + game_day.get_absolute_url()
    event.add("uid", f"gameday-{game_day.public_id}@{safetext.line(host, 200)}")
    event.add("summary", safetext.line(f"Game day: {game_day.title}", 500))
    event.add("dtstart", game_day.starts_at)
    event.add("dtend", game_day.ends_at)
    event.add("dtstamp", stamp)
    event.add("last-modified", game_day.updated_at)
    event.add("status", STATUS[GameDayStatus(game_day.status)])
    event.add("url", url)
    lines = [safetext.text(game_day.scenario, 4000)]
    link = game_day.runbook_link
    if link:
        lines.append(f"Runbook: {settings.SITE_URL + link if link.startswith('/') else safetext.url(link)}")
    lines.append(url)
    event.add("description", "\n\n".join(line for line in lines if line))
    if game_day.facilitator is not None and game_day.facilitator.email:
        organizer = vCalAddress(f"mailto:{safetext.line(game_day.facilitator.email, 254)}")
        organizer.params["cn"] = vText(_who(game_day.facilitator))
        event["organizer"] = organizer
    for person in game_day.participants.all():
        if person.email:
            attendee = vCalAddress(f"mailto:{safetext.line(person.email, 254)}")
            attendee.params["cn"] = vText(_who(person))
            attendee.params["role"] = vText("REQ-PARTICIPANT")
            event.add("attendee", attendee, encode=0)
    return event


def game_days_feed() -> bytes:
    now = timezone.now()
    cal = Calendar()
    cal.add("prodid", "-//Incident Portal//Game days//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Game days and drills")
    for game_day in (GameDay.objects.filter(ends_at__gte=now - PAST).select_related("facilitator", "runbook")
                     .prefetch_related("participants").order_by("starts_at", "pk")):
        cal.add_component(_event(game_day, now))
    return cal.to_ical()
