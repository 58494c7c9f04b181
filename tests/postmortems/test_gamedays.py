"""Game days: planned, started (declares the drill through the incidents services), closed with
results (what was learnt, outcome, action items on the drill) or cancelled; reminders to the
participants as delivery rows that follow the plan; an iCalendar feed; the drills report; the
staff pages, the API and hostile input."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from delivery import outbox
from delivery.models import Delivery, DeliveryStatus
from incidents import services as incident_services
from incidents.exceptions import InvalidInput, InvalidTransition
from incidents.integrations.models import Runbook
from incidents.models import Incident, IncidentType, Visibility
from postmortems import gamedays, reports
from postmortems.gameday_reminders import PURPOSE
from postmortems.models import ActionItem, GameDay, GameDayFeedToken, GameDayStatus

pytestmark = pytest.mark.django_db


def rows(**filters):
    return Delivery.objects.filter(purpose=PURPOSE, **filters)


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def plan(responder, responder2, viewer):
    def make(days=3, **kw):
        start = (timezone.now() + timedelta(days=days)).replace(microsecond=0)
        data = {"title": "Database failover", "scenario": "The primary goes away at 14:05.", "starts_at": start,
                "ends_at": start + timedelta(hours=2), "time_zone": "Europe/Berlin", "facilitator": responder,
                "participants": [responder2, viewer], **kw}
        return gamedays.game_day_create(by=responder, **data)
    return make


# --- services --------------------------------------------------------------------------------------


def test_planning_audits_and_plans_two_reminders_per_person(plan, responder, responder2, viewer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        game_day = plan()
    assert game_day.status == GameDayStatus.PLANNED
    assert LogEntry.objects.filter(object_id=str(game_day.pk), user=responder, change_message__startswith="Planned").exists()
    people = {responder.pk, responder2.pk, viewer.pk}  # the facilitator too
    assert set(rows().values_list("destination_id", flat=True)) == people
    assert sorted(rows(destination_id=viewer.pk).values_list("kind", flat=True)) == ["day_before", "hour_before"]
    hour = rows(destination_id=viewer.pk, kind="hour_before").get()
    assert hour.due_at == game_day.starts_at - timedelta(hours=1)
    assert gamedays.gameday_reminders.plan(game_day) == []  # planning again adds nothing
    assert rows().count() == 6


def test_moving_the_start_moves_the_reminders_and_dropping_someone_cancels_theirs(plan, responder, responder2, viewer):
    game_day = plan()
    old = set(rows().values_list("pk", flat=True))
    later = game_day.starts_at + timedelta(days=1)
    gamedays.game_day_update(game_day=game_day, by=responder, starts_at=later, ends_at=later + timedelta(hours=1))
    assert rows(pk__in=old, status=DeliveryStatus.CANCELLED).count() == len(old)
    pending = rows(status=DeliveryStatus.PENDING)
    assert pending.count() == 6 and {r.due_at for r in pending.filter(kind="hour_before")} == {later - timedelta(hours=1)}
    gamedays.game_day_update(game_day=game_day, by=responder, participants=[responder2])
    assert not rows(status=DeliveryStatus.PENDING, destination_id=viewer.pk).exists()
    assert rows(status=DeliveryStatus.PENDING, destination_id=responder2.pk).count() == 2
    assert LogEntry.objects.filter(object_id=str(game_day.pk), change_message__contains="participants").exists()


def test_a_game_day_inside_every_lead_time_gets_one_reminder_now(responder, viewer):
    start = timezone.now() + timedelta(minutes=20)
    game_day = gamedays.game_day_create(title="Quick drill", scenario="x", starts_at=start, ends_at=start + timedelta(hours=1),
                                        participants=[viewer], by=responder)
    assert list(rows(destination_id=viewer.pk).values_list("kind", flat=True)) == ["starting"]
    assert game_day.status == "planned"


def test_starting_declares_the_drill_linked_to_the_game_day(plan, responder, responder2, viewer):
    game_day = plan()
    incident = gamedays.game_day_start(game_day=game_day, by=responder)
    game_day.refresh_from_db()
    assert game_day.status == GameDayStatus.RUNNING and game_day.started_by == responder
    assert incident.is_drill and incident.type.is_drill and not incident.may_be_public
    assert list(game_day.incidents.all()) == [incident]
    members = {(m.user_id, m.role) for m in incident.members.all()}
    assert (responder.pk, "commander") in members and (responder2.pk, "responder") in members and (viewer.pk, "responder") in members
    assert incident.timeline.filter(kind="declared", data__game_day=str(game_day.public_id)).exists()
    assert not rows(status=DeliveryStatus.PENDING).exists(), "reminders stop once it has started"
    second = gamedays.game_day_start(game_day=game_day, by=responder, title="Second injection")
    assert game_day.incidents.count() == 2 and second.title == "Second injection"


def test_starting_needs_an_active_drill_type(plan, responder):
    IncidentType.objects.filter(is_drill=True).update(is_active=False)
    game_day = plan()
    with pytest.raises(InvalidInput, match="drill"):
        gamedays.game_day_start(game_day=game_day, by=responder)
    assert not Incident.objects.exists()


def test_results_close_it_with_action_items_on_the_drill(plan, responder, responder2):
    game_day = plan()
    with pytest.raises(InvalidTransition):
        gamedays.game_day_record_results(game_day=game_day, by=responder, learnt="x", outcome="passed")
    incident = gamedays.game_day_start(game_day=game_day, by=responder)
    with pytest.raises(InvalidInput) as err:
        gamedays.game_day_record_results(game_day=game_day, by=responder, learnt=" ", outcome="passed")
    assert err.value.field == "learnt"
    gamedays.game_day_record_results(
        game_day=game_day, by=responder, learnt="The runbook missed the DNS step.", outcome="partial",
        action_items=[gamedays.NewActionItem(title="Add the DNS step", owner=responder2, due_date=timezone.localdate() + timedelta(days=5))])
    game_day.refresh_from_db()
    assert game_day.status == GameDayStatus.DONE and game_day.outcome == "partial" and game_day.completed_at
    item = ActionItem.objects.get()
    assert item.incident == incident and item.owner == responder2 and item.category == "response"
    assert list(gamedays.game_day_action_items(game_day)) == [item]
    assert incident.timeline.filter(kind="note", message__contains="results recorded").exists()
    with pytest.raises(InvalidTransition):
        gamedays.game_day_cancel(game_day=game_day, by=responder)


def test_cancelling_cancels_pending_reminders(plan, responder):
    game_day = plan()
    gamedays.game_day_cancel(game_day=game_day, by=responder, reason="Release freeze")
    game_day.refresh_from_db()
    assert game_day.status == GameDayStatus.CANCELLED and game_day.cancel_reason == "Release freeze"
    assert rows().count() == 6 and not rows(status=DeliveryStatus.PENDING).exists()
    with pytest.raises(InvalidTransition):
        gamedays.game_day_start(game_day=game_day, by=responder)
    with pytest.raises(InvalidTransition):
        gamedays.game_day_update(game_day=game_day, by=responder, title="Again")


def test_a_reminder_checked_at_send_time_goes_out_or_is_cancelled(plan, responder, viewer):
    game_day = plan()
    row = rows(destination_id=viewer.pk, kind="hour_before").get()
    Delivery.objects.filter(pk=row.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    outbox.deliver(row.pk)
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT, row.error
    sent = mail.outbox[-1]
    assert sent.to == [viewer.email] and sent.subject.startswith("Game day in an hour: Database failover")
    assert "Europe/Berlin" in sent.body or "CET" in sent.body or "CEST" in sent.body
    # A row from an older plan (the start moved behind its back) is cancelled, not sent.
    other = rows(destination_id=viewer.pk, kind="day_before").get()
    GameDay.objects.filter(pk=game_day.pk).update(starts_at=game_day.starts_at + timedelta(hours=3),
                                                  ends_at=game_day.ends_at + timedelta(hours=3))
    Delivery.objects.filter(pk=other.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    outbox.deliver(other.pk)
    other.refresh_from_db()
    assert other.status == DeliveryStatus.CANCELLED and "moved" in other.error


def test_the_rules_name_their_field(responder, viewer):
    start = timezone.now() + timedelta(days=1)
    base = {"title": "x", "scenario": "y", "starts_at": start, "ends_at": start + timedelta(hours=1), "by": responder}
    for change, field in (({"title": "  "}, "title"), ({"scenario": ""}, "scenario"), ({"time_zone": "Mars/Olympus"}, "time_zone"),
                          ({"runbook_url": "javascript:alert(1)"}, "runbook_url"), ({"ends_at": start}, "ends_at"),
                          ({"starts_at": timezone.now() - timedelta(hours=1)}, "starts_at")):
        with pytest.raises(InvalidInput) as err:
            gamedays.game_day_create(**{**base, **change})
        assert err.value.field == field, change
    viewer.is_active = False
    viewer.save()
    with pytest.raises(InvalidInput) as err:
        gamedays.game_day_create(**base, participants=[viewer])
    assert err.value.field == "participants"
    assert not GameDay.objects.exists()


# --- the iCalendar feed -----------------------------------------------------------------------------


def test_the_feed_lists_game_days_behind_a_personal_token(plan, responder, viewer, outsider):
    game_day = plan(title='Evil "quote"\r\nX-INJECT:1', runbook_url="https://wiki.example.com/rb")
    cancelled = plan(days=5, title="Called off")
    gamedays.game_day_cancel(game_day=cancelled, by=responder)
    token = gamedays.feed_token_for(viewer)
    response = Client().get(f"/game-days/calendar/{token.token}.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    event = next(e for uid, e in events.items() if uid.startswith(f"gameday-{game_day.public_id}@"))
    assert event.decoded("dtstart") == game_day.starts_at
    assert "\r\nX-INJECT" not in response.content.decode()  # a title cannot add a property of its own
    assert "https://wiki.example.com/rb" in str(event["description"])
    assert any(str(e["status"]) == "CANCELLED" for e in events.values())
    assert Client().get("/game-days/calendar/not-a-token.ics").status_code == 404
    assert Client().get(f"/game-days/calendar/{gamedays.feed_token_for(outsider).token}.ics").status_code == 404  # no view permission
    old = token.token
    gamedays.feed_token_rotate(user=viewer, by=viewer)
    assert Client().get(f"/game-days/calendar/{old}.ics").status_code == 404
    assert GameDayFeedToken.objects.get(user=viewer).token != old


# --- pages -----------------------------------------------------------------------------------------------


def test_plan_start_record_through_the_pages(responder, responder2, viewer):
    client = _client(responder)
    runbook = Runbook.objects.create(identifier="RB-DB", title="Fail over the database", steps="1. Promote the replica")
    assert client.get("/game-days/new/").status_code == 200
    response = client.post("/game-days/new/", {
        "title": "Monthly game day", "scenario": "Primary down", "time_zone": "America/New_York",
        "starts_at": "2099-03-10T14:00", "ends_at": "2099-03-10T16:00", "runbook": runbook.pk, "facilitator": responder.pk,
        "participants": [responder2.pk, viewer.pk],
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    game_day = GameDay.objects.get()
    assert game_day.starts_at == timezone.datetime(2099, 3, 10, 14, 0, tzinfo=ZoneInfo("America/New_York"))
    assert set(game_day.participants.all()) == {responder2, viewer}
    page = client.get(game_day.get_absolute_url()).content.decode()
    assert "Monthly game day" in page and "RB-DB" in page and "America/New_York" in page and "2099-03-10 14:00" in page
    listing = client.get("/game-days/").content.decode()
    assert "Monthly game day" in listing and ".ics" in listing
    # Edit: the same wall-clock time in another zone moves the start (and the reminders).
    response = client.post(f"/game-days/{game_day.public_id}/edit/", {
        "title": "Monthly game day", "scenario": "Primary down", "time_zone": "Europe/Berlin",
        "starts_at": "2099-03-10T14:00", "ends_at": "2099-03-10T16:00", "runbook": runbook.pk, "facilitator": responder.pk,
        "participants": [responder2.pk, viewer.pk],
    })
    assert response.status_code == 302
    game_day.refresh_from_db()
    assert game_day.starts_at == timezone.datetime(2099, 3, 10, 14, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert rows(status=DeliveryStatus.PENDING, kind="hour_before", destination_id=viewer.pk).get().due_at == \
        game_day.starts_at - timedelta(hours=1)
    response = client.post(f"/game-days/{game_day.public_id}/start/")
    incident = game_day.incidents.get()
    assert response.status_code == 302 and response["Location"] == incident.get_absolute_url()
    response = client.post(f"/game-days/{game_day.public_id}/results/", {
        "outcome": "passed", "learnt": "Failover took 4 minutes.", "action_items": f"Automate promotion | {responder2.username} | 2099-04-01\nDocument DNS",
    })
    assert response.status_code == 302
    game_day.refresh_from_db()
    assert game_day.status == "done" and ActionItem.objects.filter(incident=incident).count() == 2
    drills = _client(viewer).get("/drills/").content.decode()
    assert "Monthly game day" in drills and "Failover took 4 minutes." in drills and "Automate promotion" in drills
    assert incident.number in drills


def test_cancel_through_the_page(plan, responder):
    game_day = plan()
    response = _client(responder).post(f"/game-days/{game_day.public_id}/cancel/", {"reason": "Freeze"})
    assert response.status_code == 302
    game_day.refresh_from_db()
    assert game_day.status == "cancelled"
    past = _client(responder).get("/game-days/?when=past").content.decode()
    assert "Database failover" in past


HOSTILE = ["\x00", "A" * 100_000, "<script>alert(1)</script>", "9999-12-31T23:59", "-1", "' OR 1=1 --", "../../etc/passwd",
           "javascript:alert(1)", "Mars/Olympus", "2099-02-30T10:00", "1e309"]


@pytest.mark.parametrize("field", ["title", "scenario", "time_zone", "starts_at", "ends_at", "runbook", "runbook_url", "severity",
                                   "facilitator", "participants"])
def test_hostile_input_on_the_game_day_form_is_a_4xx_naming_the_field(responder, field):
    client = _client(responder)
    base = {"title": "Drill", "scenario": "x", "time_zone": "Etc/UTC", "starts_at": "2099-01-01T10:00", "ends_at": "2099-01-01T11:00"}
    for value in HOSTILE:
        response = client.post("/game-days/new/", {**base, field: value})
        assert response.status_code in (302, 400), (field, value, response.status_code)
        if response.status_code == 400:
            assert b"has-error" in response.content or b"form-errors" in response.content, (field, value)
    raw = "&".join(f"{k}={v}" for k, v in {**base, field: "%ED%A0%80%00"}.items())  # a lone surrogate, as a browser cannot send
    response = client.post("/game-days/new/", raw, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (302, 400), (field, response.status_code)
    for game_day in GameDay.objects.all():  # whatever was accepted renders, escaped, on every page that shows it
        for url in (game_day.get_absolute_url(), "/game-days/", "/drills/"):
            page = client.get(url)
            assert page.status_code == 200 and b"<script>alert(1)</script>" not in page.content, url
    feed = client.get(f"/game-days/calendar/{gamedays.feed_token_for(responder).token}.ics")
    assert len(Calendar.from_ical(feed.content).walk("VEVENT")) == GameDay.objects.count()  # every calendar parses it


@pytest.mark.parametrize("field", ["outcome", "learnt", "action_items"])
def test_hostile_input_on_the_results_form_never_fails(plan, responder, field):
    game_day = plan()
    gamedays.game_day_start(game_day=game_day, by=responder)
    client = _client(responder)
    extra = ["x | nobody-here", "x | responder | 31-12-2099", "x | responder | 9999-12-31", "a|b|c|d", "\n".join(["x"] * 60)]
    for value in [*HOSTILE, *extra]:
        response = client.post(f"/game-days/{game_day.public_id}/results/", {"outcome": "passed", "learnt": "ok", field: value})
        assert response.status_code in (302, 400), (field, value, response.status_code)
    assert client.post(f"/game-days/{game_day.public_id}/cancel/", {"reason": "R" * 5000}).status_code == 302


def test_viewers_read_but_do_not_change(plan, viewer):
    game_day = plan()
    client = _client(viewer)
    assert client.get(game_day.get_absolute_url()).status_code == 200
    assert client.post(f"/game-days/{game_day.public_id}/start/").status_code == 403
    assert client.get("/game-days/new/").status_code == 403


def test_the_list_page_has_a_constant_number_of_queries(plan, viewer, django_assert_max_num_queries):
    for days in range(1, 6):
        plan(days=days)
    client = _client(viewer)
    client.get("/game-days/")
    with django_assert_max_num_queries(20):
        assert client.get("/game-days/").status_code == 200


# --- API ----------------------------------------------------------------------------------------------


def test_the_api_plans_starts_records_and_cancels(responder_api, viewer_api, responder2, viewer):
    start = timezone.now() + timedelta(days=2)
    body = {"title": "API game day", "scenario": "Cache flush", "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat(),
            "time_zone": "Asia/Tokyo", "participants": [responder2.username, viewer.username], "runbook_url": "https://wiki.example.com/x"}
    created = responder_api.post("/api/v1/game-days/", body, format="json", HTTP_IDEMPOTENCY_KEY="gd-1")
    assert created.status_code == 201, created.content
    again = responder_api.post("/api/v1/game-days/", body, format="json", HTTP_IDEMPOTENCY_KEY="gd-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true" and GameDay.objects.count() == 1
    gid = created.json()["id"]
    assert viewer_api.post(f"/api/v1/game-days/{gid}/start/", {}, format="json").status_code == 403
    listed = viewer_api.get("/api/v1/game-days/?when=upcoming").json()
    assert [g["id"] for g in listed["results"]] == [gid]
    patched = responder_api.patch(f"/api/v1/game-days/{gid}/", {"title": "Renamed"}, format="json")
    assert patched.status_code == 200 and patched.json()["title"] == "Renamed"
    bad = responder_api.patch(f"/api/v1/game-days/{gid}/", {"time_zone": "Nowhere/Land"}, format="json")
    assert bad.status_code == 400 and "time_zone" in bad.content.decode()
    started = responder_api.post(f"/api/v1/game-days/{gid}/start/", {}, format="json")
    assert started.status_code == 200 and started.json()["status"] == "running" and len(started.json()["incidents"]) == 1
    results = responder_api.post(f"/api/v1/game-days/{gid}/results/", {
        "learnt": "Cache warmed in 3 min", "outcome": "passed", "action_items": [{"title": "Pre-warm on deploy", "owner": responder2.username}]},
        format="json")
    assert results.status_code == 200 and results.json()["status"] == "done"
    assert ActionItem.objects.get().owner == responder2
    cancel = responder_api.post(f"/api/v1/game-days/{gid}/cancel/", {}, format="json")
    assert cancel.status_code == 409


def test_the_api_refuses_hostile_input_with_a_400(responder_api):
    start = timezone.now() + timedelta(days=2)
    base = {"title": "x", "scenario": "y", "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()}
    for change in ({"starts_at": "9999-12-31T23:59:59Z"}, {"ends_at": start.isoformat()}, {"title": "A" * 1000},
                   {"runbook": "nope"}, {"participants": ["ghost"]}, {"runbook_url": "ftp://x"}, {"scenario": {"a": [1]}},
                   {"time_zone": "\u0000"}, {"severity": "P99"}):
        response = responder_api.post("/api/v1/game-days/", {**base, **change}, format="json")
        assert response.status_code == 400, (change, response.status_code, response.content[:300])
    assert not GameDay.objects.exists()


def test_a_game_days_drill_stays_out_of_the_metrics_and_the_status_page(plan, responder):
    game_day = plan()
    incident = gamedays.game_day_start(game_day=game_day, by=responder)
    incident_services.incident_acknowledge(incident=incident, by=responder)
    today = timezone.localdate()
    assert reports.compute(reports.DateRange(today - timedelta(days=1), today + timedelta(days=1)), viewer=None).total == 0
    with pytest.raises(InvalidInput):
        incident_services.incident_post_update(incident=incident, body="x", visibility=Visibility.PUBLIC, by=responder)


# --- admin ----------------------------------------------------------------------------------------------


def _admin_form(**overrides):
    data = {"title": "Admin game day", "scenario": "Region failover", "starts_at_0": "2099-06-01", "starts_at_1": "10:00:00",
            "ends_at_0": "2099-06-01", "ends_at_1": "12:00:00", "time_zone": "Etc/UTC", "runbook": "", "runbook_url": "",
            "severity": "", "facilitator": "", "participants": []}
    data.update(overrides)
    return data


def test_the_admin_plans_edits_starts_and_cancels_through_the_services(client, admin_user, viewer):
    client.force_login(admin_user)
    response = client.post("/admin/postmortems/gameday/add/", _admin_form(participants=[viewer.pk]))
    assert response.status_code == 302, response.content.decode()[-2000:]
    game_day = GameDay.objects.get()
    assert rows(destination_id=viewer.pk, status=DeliveryStatus.PENDING).count() == 2
    assert LogEntry.objects.filter(object_id=str(game_day.pk), user=admin_user, change_message__startswith="Planned").exists()
    refused = client.post(f"/admin/postmortems/gameday/{game_day.pk}/change/", _admin_form(runbook_url="javascript:alert(1)"))
    assert refused.status_code == 200 and GameDay.objects.get().runbook_url == ""
    response = client.post("/admin/postmortems/gameday/", {"action": "start", "_selected_action": [game_day.pk]})
    assert response.status_code == 302
    game_day.refresh_from_db()
    assert game_day.status == "running" and game_day.incidents.get().is_drill
    client.post("/admin/postmortems/gameday/", {"action": "cancel", "_selected_action": [game_day.pk]})
    game_day.refresh_from_db()
    assert game_day.status == "cancelled"
    assert client.post(f"/admin/postmortems/gameday/{game_day.pk}/delete/", {"post": "yes"}).status_code == 403
