"""One way to show time: the viewer's zone (profile, else browser cookie, else the portal's),
one stamp format with the zone's name, one duration format, relative times with the exact time
on hover, and a schedule's zone beside the viewer's."""

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.test import RequestFactory, override_settings
from django.utils import timezone

from incidents.templatetags.portal import ago, between, duration, stamp
from incidents.viewerzone import BROWSER, PORTAL, PROFILE, ViewerTimeZoneMiddleware, viewer_zone
from oncall.models import Profile

BERLIN, NEW_YORK = zoneinfo.ZoneInfo("Europe/Berlin"), zoneinfo.ZoneInfo("America/New_York")
NOON_UTC = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0 s"), (45, "45 s"), (60, "1 min"), (59 * 60 + 59, "59 min"), (3600, "1 h"), (7020, "1 h 57 min"),
    (3600 + 5 * 60, "1 h 5 min"), (86400, "1 d"), (86400 + 4 * 3600 + 600, "1 d 4 h"), (-7020, "1 h 57 min"),
])
def test_duration_has_one_format(seconds, text):
    assert duration(timedelta(seconds=seconds)) == text


def test_duration_and_between_of_nothing():
    assert duration(None) == "—" and between(None, None) == "—"
    assert between(NOON_UTC, NOON_UTC + timedelta(minutes=117)) == "1 h 57 min"


def test_stamp_is_in_the_active_zone_and_names_it():
    with timezone.override(BERLIN):
        assert stamp(NOON_UTC) == "2026-07-01 14:00 CEST"
        assert stamp(NOON_UTC + timedelta(seconds=7), "seconds") == "2026-07-01 14:00:07 CEST"
    with timezone.override(UTC):
        assert stamp(NOON_UTC) == "2026-07-01 12:00 UTC"
    assert stamp(None) == "—"


def test_ago_is_relative_with_the_exact_time_on_hover():
    with timezone.override(BERLIN):
        moment = timezone.now() - timedelta(minutes=12, seconds=5)
        html = ago(moment)
        assert ">12 min ago</time>" in html and f'title="{stamp(moment)}"' in html and f'datetime="{moment.isoformat()}"' in html
        assert ">in 5 min</time>" in ago(timezone.now() + timedelta(minutes=5, seconds=30))
        assert ">just now</time>" in ago(timezone.now())
        old = timezone.now() - timedelta(days=3)
        assert f">{stamp(old)}</time>" in ago(old)  # long ago: the date itself


def _zoned(value, zone, viewer):
    request = RequestFactory().get("/")
    request.viewer_zone = viewer
    return Template("{% load portal %}{% zoned when zone %}").render(Context({"when": value, "zone": zone, "request": request}))


def test_zoned_gives_the_schedules_zone_and_the_viewers():
    html = _zoned(datetime(2026, 7, 1, 18, 0, tzinfo=UTC), "America/New_York", BERLIN)
    assert ">Wed 01 Jul 14:00 America/New_York (20:00 your time)</time>" in html
    assert 'title="2026-07-01 20:00 CEST"' in html
    late = _zoned(datetime(2026, 7, 2, 1, 0, tzinfo=UTC), "America/New_York", BERLIN)
    assert "Wed 01 Jul 21:00 America/New_York (Thu 03:00 your time)" in late  # another day: named
    same = _zoned(datetime(2026, 7, 1, 18, 0, tzinfo=UTC), "America/New_York", NEW_YORK)
    assert "14:00 America/New_York</time>" in same and "your time" not in same


def _request(user=None, cookie=None):
    request = RequestFactory().get("/")
    if cookie is not None:
        request.COOKIES["tz"] = cookie
    from django.contrib.auth.models import AnonymousUser
    request.user = user or AnonymousUser()
    return request


@pytest.mark.django_db
@override_settings(TIME_ZONE="UTC")
def test_viewer_zone_prefers_profile_then_browser_then_portal(responder):
    assert viewer_zone(_request()) == (zoneinfo.ZoneInfo("UTC"), PORTAL)
    assert viewer_zone(_request(cookie="Europe/Berlin")) == (BERLIN, BROWSER)
    for bad in ("Mars/Olympus", "../../etc/passwd", "", "x" * 100):
        assert viewer_zone(_request(cookie=bad))[1] == PORTAL
    assert viewer_zone(_request(responder, cookie="Europe/Berlin")) == (BERLIN, BROWSER)  # no profile zone
    Profile.objects.update_or_create(user=responder, defaults={"time_zone": "America/New_York"})
    responder.refresh_from_db()
    assert viewer_zone(_request(responder, cookie="Europe/Berlin")) == (NEW_YORK, PROFILE)


@pytest.mark.django_db
def test_middleware_activates_the_zone_for_the_request_only(responder):
    seen = {}

    def view(request):
        seen["zone"] = timezone.get_current_timezone_name()
        return "response"

    before = timezone.get_current_timezone_name()
    assert ViewerTimeZoneMiddleware(view)(_request(cookie="Europe/Berlin")) == "response"
    assert seen["zone"] == "Europe/Berlin" and timezone.get_current_timezone_name() == before


@pytest.mark.django_db
def test_pages_show_times_in_the_viewers_zone(client, responder):
    from tests.incidents.factories import declare

    incident = declare("Zone check", by=responder)
    client.force_login(responder)
    client.cookies["tz"] = "Asia/Kolkata"
    html = client.get("/incidents/").content.decode()
    local = timezone.localtime(incident.declared_at, zoneinfo.ZoneInfo("Asia/Kolkata"))
    assert f'title="{local:%Y-%m-%d %H:%M} IST"' in html
    assert "times in Asia/Kolkata (your browser" in html
    Profile.objects.update_or_create(user=responder, defaults={"time_zone": "Europe/Berlin"})
    html = client.get("/incidents/").content.decode()
    assert "times in Europe/Berlin (your profile)" in html


@pytest.mark.django_db
def test_public_status_page_is_not_rendered_in_a_viewers_zone(client):
    client.cookies["tz"] = "Asia/Kolkata"
    html = client.get("/status/").content.decode()
    assert " UTC</time>" in html and "IST" not in html


@pytest.mark.django_db
def test_a_person_chooses_their_zone_in_their_profile(client, viewer):
    client.force_login(viewer)
    client.cookies["tz"] = "Asia/Kolkata"
    page = client.get("/oncall/my-time-zone/").content.decode()
    assert "<strong>Asia/Kolkata</strong> (your browser" in page and 'href="/oncall/my-time-zone/">change</a>' in page
    assert client.post("/oncall/my-time-zone/", {"time_zone": "Mars/Olympus"}).status_code == 400
    response = client.post("/oncall/my-time-zone/", {"time_zone": "America/New_York"}, follow=True)
    assert "Times are now shown in America/New_York." in response.content.decode()
    assert Profile.objects.get(user=viewer).time_zone == "America/New_York"
    assert "times in America/New_York (your profile)" in client.get("/incidents/").content.decode()
    client.post("/oncall/my-time-zone/", {"time_zone": ""})
    assert Profile.objects.get(user=viewer).time_zone == ""
    assert "times in Asia/Kolkata (your browser" in client.get("/incidents/").content.decode()


@pytest.mark.django_db
def test_schedule_timeline_titles_name_the_schedules_zone(viewer):
    from oncall.models import Schedule
    from oncall.selectors import schedule_timeline

    schedule = Schedule.objects.create(name="NY", time_zone="America/New_York")
    start = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
    gaps = schedule_timeline(schedule, start=start, days=1)["gaps"]
    assert gaps and gaps[0].title == "Nobody on call: Wed 01 Jul 00:00 – Thu 02 Jul 00:00 America/New_York"
