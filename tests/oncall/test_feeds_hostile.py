"""On-call calendar feeds whatever a schedule or a person is called: the feed parses back with
the icalendar library, every text is one line without control characters, nothing is injected."""

import re

import pytest
from django.urls import reverse
from icalendar import Calendar

from oncall.models import Schedule
from oncall.services import calendars

from .conftest import make_schedule, person

pytestmark = pytest.mark.django_db

NASTY = "Plat\r\nform;x,y\\z\x0b\x1b\u202e END:VCALENDAR\rBEGIN:VEVENT"  # no NUL: PostgreSQL refuses it in text


def _checked(content: bytes) -> Calendar:
    text = content.decode()
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u202e]", text.replace("\r\n", "")), "control characters in the feed"
    assert re.fullmatch(r"(?:[^\r\n]*\r\n)+", text), "every line ends in CRLF and nothing else breaks a line"
    lines = text.split("\r\n")
    assert lines.count("BEGIN:VCALENDAR") == 1 and lines.count("END:VCALENDAR") == 1
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT")
    assert not [x for x in lines if x.startswith("ATTENDEE")], "nothing injected as a property"
    return Calendar.from_ical(content)


def test_schedule_and_user_feeds_with_hostile_names_parse_back(client):
    mallory = person("mallory")
    mallory.first_name, mallory.last_name = "Mal\r\nATTENDEE:x", "\x1b;,\\"
    mallory.save()
    rota = make_schedule("placeholder", [mallory])
    Schedule.objects.filter(pk=rota.pk).update(name=NASTY)
    rota.refresh_from_db()

    cal = _checked(client.get(reverse("oncall:ical_schedule", args=[rota.ical_token])).content)
    assert str(cal["X-WR-CALNAME"]).startswith("On call: Plat form;x,y\\z END:VCALENDAR BEGIN:VEVENT")
    events = cal.walk("VEVENT")
    assert events
    summary = str(events[0]["SUMMARY"])
    assert summary == "On call: Plat form;x,y\\z END:VCALENDAR BEGIN:VEVENT (Mal ATTENDEE:x ;,\\)"

    token = calendars.calendar_for(mallory).token
    mine = _checked(client.get(reverse("oncall:ical_user", args=[token])).content)
    assert all(str(e["SUMMARY"]).endswith("(Mal ATTENDEE:x ;,\\)") for e in mine.walk("VEVENT"))
