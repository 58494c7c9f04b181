"""Staff pages: permissions, the timeline, gaps, forms with clear errors, calendar feeds."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from incidents import demo
from incidents.models import TimelineEvent
from oncall import handlers
from oncall.models import CalendarToken, Escalation, EscalationPolicy, Layer, Override, Schedule, ServicePolicy
from tests.incidents.factories import declare

from .conftest import Condition, TargetKind, make_policy, make_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def rota(responder, responder2):
    return make_schedule("Platform", [responder, responder2], tz="America/New_York")


def test_pages_need_login(client, rota):
    for url in (reverse("oncall:now"), reverse("oncall:schedule", args=[rota.pk]), reverse("oncall:my_shifts")):
        assert client.get(url).status_code == 302


def test_now_page_lists_current_and_next(client, viewer, rota, responder, responder2):
    client.force_login(viewer)
    page = client.get(reverse("oncall:now")).content.decode()
    assert "Platform" in page and "Responder" in page and "Responder2" in page


def test_schedule_page_draws_the_timeline_and_links_the_feed(client, viewer, admin_user, rota):
    client.force_login(viewer)
    page = client.get(reverse("oncall:schedule", args=[rota.pk])).content.decode()
    assert "<svg" in page and "bar-final" in page and "bar-layer" in page
    assert rota.ical_token not in page  # the feed address is for those who manage the schedule
    assert "Nobody is on call" not in page
    client.force_login(admin_user)
    assert f"/oncall/calendar/schedule/{rota.ical_token}.ics" in client.get(reverse("oncall:schedule", args=[rota.pk])).content.decode()


def test_gap_is_warned_on_schedule_and_dashboard(client, viewer, responder):
    later = make_schedule("Later", [responder], starts_on=timezone.localdate() + timedelta(days=3))
    client.force_login(viewer)
    page = client.get(reverse("oncall:schedule", args=[later.pk])).content.decode()
    assert "Nobody is on call" in page and "bar-gap" in page
    dash = client.get(reverse("incidents:dashboard")).content.decode()
    assert "On-call gaps in the next 14 days" in dash and "Later" in dash


def test_viewer_cannot_add_overrides_or_edit(client, viewer, rota):
    client.force_login(viewer)
    assert client.get(reverse("oncall:override_new", args=[rota.pk])).status_code == 403
    assert client.get(reverse("oncall:schedule_edit", args=[rota.pk])).status_code == 403


def test_override_form_rejects_inverted_and_overlapping_ranges(client, responder, responder2, rota):
    client.force_login(responder)
    url = reverse("oncall:override_new", args=[rota.pk])
    day = timezone.localdate() + timedelta(days=2)
    bad = client.post(url, {"user": responder2.pk, "start": f"{day}T18:00", "end": f"{day}T09:00"})
    assert "must end after it starts" in bad.content.decode()
    ok = client.post(url, {"user": responder2.pk, "start": f"{day}T09:00", "end": f"{day}T18:00", "reason": "swap"})
    assert ok.status_code == 302
    clash = client.post(url, {"user": responder.pk, "start": f"{day}T17:00", "end": f"{day}T20:00"})
    assert "overlaps another override" in clash.content.decode()
    assert Override.objects.count() == 1
    override = Override.objects.get()
    assert override.start.astimezone(timezone.get_fixed_timezone(-300)).hour in (9, 10)  # 09:00 New York


def test_new_schedule_form_errors_save_nothing(client, staff, responder):
    client.force_login(staff)
    url = reverse("oncall:schedule_new")
    base = {"name": "Night", "time_zone": "Mars/Olympus", "layer-name": "Primary", "layer-rotation": "weekly", "layer-every": 1,
            "layer-handoff_time": "09:00", "layer-handoff_weekday": 0, "layer-starts_on": "2026-01-05",
            "layer-participants": "responder"}
    page = client.post(url, base).content.decode()
    assert "Unknown time zone" in page
    page = client.post(url, {**base, "time_zone": "Europe/Berlin", "layer-participants": "off x2"}).content.decode()
    assert "at least one participant" in page
    page = client.post(url, {**base, "time_zone": "Europe/Berlin", "layer-participants": "nobody-by-that-name"}).content.decode()
    assert "Unknown user" in page
    assert not Schedule.objects.exists() and not Layer.objects.exists()
    ok = client.post(url, {**base, "time_zone": "Europe/Berlin", "layer-restrictions": "Mon-Fri 09:00-17:00"})
    assert ok.status_code == 302
    layer = Layer.objects.get()
    assert layer.restrictions.get().weekdays == [0, 1, 2, 3, 4]


def test_layer_edit_with_effective_date_keeps_history(client, staff, rota, responder, responder2):
    client.force_login(staff)
    layer = rota.layers.get()
    when = timezone.localdate() + timedelta(days=10)
    resp = client.post(reverse("oncall:layer_edit", args=[layer.pk]), {
        "name": "Primary", "rotation": "weekly", "every": 1, "handoff_time": "09:00", "handoff_weekday": layer.handoff_weekday,
        "starts_on": layer.starts_on, "participants": "responder2", "effective_from": f"{when}T09:00"})
    assert resp.status_code == 302
    assert list(layer.memberships.values_list("effective_from", flat=True))[0] is None
    assert layer.memberships.count() == 2


def test_handoff_note_saved(client, responder, rota):
    client.force_login(responder)
    client.post(reverse("oncall:handoff_note", args=[rota.pk]), {"body": "DB failover pending"})
    assert rota.handoff_notes.get().body == "DB failover pending"


def test_schedule_ical_feed_parses_and_lists_shifts(client, rota, responder):
    resp = client.get(reverse("oncall:ical_schedule", args=[rota.ical_token]))
    assert resp["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(resp.content)
    events = cal.walk("VEVENT")
    assert len(events) >= 8
    names = {str(e["SUMMARY"]) for e in events}
    assert "On call: Platform (Responder)" in names
    starts = sorted(e.decoded("DTSTART") for e in events)
    assert all(b > a for a, b in zip(starts, starts[1:], strict=False))
    assert client.get("/oncall/calendar/schedule/wrong-token.ics").status_code == 404


def test_user_ical_feed_has_only_their_shifts(client, rota, responder, responder2):
    client.force_login(responder)
    page = client.get(reverse("oncall:my_shifts")).content.decode()
    token = CalendarToken.objects.get(user=responder).token
    assert token in page
    client.logout()
    cal = Calendar.from_ical(client.get(reverse("oncall:ical_user", args=[token])).content)
    assert cal.walk("VEVENT") and all("Responder)" in str(e["SUMMARY"]) for e in cal.walk("VEVENT"))


def test_incident_page_shows_the_escalation_and_what_comes_next(client, responder, responder2, service):
    make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, responder)]),
                 (360, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, responder2)])], service=service)
    incident = declare(severity="P1", services=[service])
    handlers.on_incident_event(TimelineEvent.objects.get(incident=incident, kind="declared"))
    client.force_login(responder)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert 'id="oncall-escalation"' in page
    start = page.index('id="oncall-escalation"')
    panel = page[start:start + 1500]
    assert "level 1, Responder," in panel and "level 2, Responder2," in panel and ">in 6 min<" in panel
    assert "Page someone now" in page


def test_responder_pages_by_hand_and_viewer_cannot(client, responder, responder2, viewer):
    incident = declare(severity="P2")
    url = reverse("oncall:page", args=[incident.number])
    client.force_login(viewer)
    assert "Page someone now" not in client.get(incident.get_absolute_url()).content.decode()
    assert client.post(url, {"user": responder2.pk}).status_code == 403
    client.force_login(responder)
    missing = client.post(url, {}, follow=True).content.decode()
    assert "Choose a person or a schedule" in missing
    assert client.post(url, {"user": responder2.pk, "note": "DB help"}).status_code == 302
    escalation = Escalation.objects.get(incident=incident, manual=True)
    assert escalation.steps.get().targets[0]["id"] == responder2.pk


def test_demo_seed_creates_schedules_and_the_default_policy():
    assert demo.seed(settings.DEMO_PASSWORD)
    policy = EscalationPolicy.objects.get(name="Default (DESIGN.md)")
    levels = list(policy.levels.prefetch_related("severities").order_by("position"))
    assert [(lv.delay_seconds // 60, lv.condition) for lv in levels] == [
        (0, "acknowledged"), (15, "acknowledged"), (30, "acknowledged"), (60, "resolved"), (60, "mitigated")]
    assert [s.key for s in levels[3].severities.all()] == ["P0"]
    assert ServicePolicy.objects.filter(policy=policy).count() == 6
    assert Schedule.objects.count() == 3
