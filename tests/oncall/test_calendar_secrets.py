"""Calendar feed tokens are secrets: only the owner (personal feed) or the people who manage the
schedule (schedule feed) see the URL, and both can be rotated; the old URL stops at once."""

from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse

from oncall.models import CalendarToken, Schedule

from .conftest import make_schedule


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_schedule_feed_url_is_hidden_from_viewers_and_responders(viewer, responder, admin_user, viewer_api, admin_api):
    schedule = make_schedule("Platform", [admin_user])
    for user in (viewer, responder):
        page = _client(user).get(reverse("oncall:schedule", args=[schedule.pk]))
        assert page.status_code == 200
        assert schedule.ical_token not in page.content.decode()
    body = viewer_api.get(f"/api/v1/schedules/{schedule.pk}/").json()
    assert body["ical_url"] is None
    assert schedule.ical_token not in str(viewer_api.get("/api/v1/schedules/").json())
    # The people who manage the schedule see it.
    assert schedule.ical_token in _client(admin_user).get(reverse("oncall:schedule", args=[schedule.pk])).content.decode()
    assert schedule.ical_token in admin_api.get(f"/api/v1/schedules/{schedule.pk}/").json()["ical_url"]


def test_rotating_a_schedule_feed_stops_the_old_url_at_once_and_is_audited(admin_user):
    schedule = make_schedule("Platform", [admin_user])
    old = schedule.ical_token
    anonymous = Client()
    assert anonymous.get(reverse("oncall:ical_schedule", args=[old])).status_code == 200
    response = _client(admin_user).post(reverse("oncall:schedule_calendar_rotate", args=[schedule.pk]))
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert schedule.ical_token != old
    assert anonymous.get(reverse("oncall:ical_schedule", args=[old])).status_code == 404
    assert anonymous.get(reverse("oncall:ical_schedule", args=[schedule.ical_token])).status_code == 200
    entry = LogEntry.objects.filter(object_id=str(schedule.pk), user=admin_user).latest("action_time")
    assert "calendar" in entry.change_message.lower()


def test_rotating_a_schedule_feed_through_the_api(admin_api, responder_api, admin_user):
    schedule = make_schedule("Platform", [admin_user])
    old = schedule.ical_token
    assert responder_api.post(f"/api/v1/schedules/{schedule.pk}/rotate-calendar/").status_code == 403
    response = admin_api.post(f"/api/v1/schedules/{schedule.pk}/rotate-calendar/")
    assert response.status_code == 200
    fresh = Schedule.objects.get(pk=schedule.pk).ical_token
    assert fresh != old and fresh in response.json()["ical_url"]


def test_personal_feed_is_seen_and_rotated_by_its_owner_only(viewer, responder, api_for):
    own = _client(viewer).get(reverse("oncall:my_shifts"))
    token = CalendarToken.objects.get(user=viewer).token
    assert token in own.content.decode()
    # Nobody else's page or API answer carries it.
    assert token not in _client(responder).get(reverse("oncall:my_shifts")).content.decode()
    assert token not in str(api_for(responder).get("/api/v1/users/me/calendar/").json())

    _client(viewer).post(reverse("oncall:my_calendar_rotate"))
    fresh = CalendarToken.objects.get(user=viewer).token
    assert fresh != token
    assert Client().get(reverse("oncall:ical_user", args=[token])).status_code == 404
    assert Client().get(reverse("oncall:ical_user", args=[fresh])).status_code == 200
    assert LogEntry.objects.filter(user=viewer, change_message__icontains="calendar").exists()

    api = api_for(viewer)
    assert fresh in api.get("/api/v1/users/me/calendar/").json()["url"]
    rotated = api.post("/api/v1/users/me/rotate-calendar/")
    assert rotated.status_code == 200
    newest = CalendarToken.objects.get(user=viewer).token
    assert newest != fresh and newest in rotated.json()["url"]
