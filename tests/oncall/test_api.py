"""The on-call API: schedules with who-is-on-call and shifts, overrides, escalation policies,
permissions and clear errors."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from oncall.models import EscalationPolicy, Layer, Override, Restriction, Schedule
from tests.incidents.factories import ServiceFactory

from .conftest import make_schedule

pytestmark = pytest.mark.django_db


def schedule_body(users, **kw):
    return {"name": "API rota", "time_zone": "Europe/Berlin", "layers": [{
        "name": "Primary", "rotation": "daily", "handoff_time": "08:00", "starts_on": "2026-03-23",
        "participants": [{"user": u.pk, "turns": 1} for u in users],
        "restrictions": [{"weekdays": [0, 1, 2, 3, 4, 5, 6], "start": "08:00", "end": "20:00"}]}], **kw}


def test_admin_creates_a_schedule_and_asks_who_is_on_call(admin_api, responder, responder2):
    created = admin_api.post("/api/v1/schedules/", schedule_body([responder, responder2]), format="json")
    assert created.status_code == 201, created.content
    pk = created.data["id"]
    assert created.data["layers"][0]["participants"] == [{"user": responder.pk, "turns": 1}, {"user": responder2.pk, "turns": 1}]
    # 2026-03-29 is the EU spring-forward day; 08:00 Berlin = 06:00 UTC after it.
    now = admin_api.get(f"/api/v1/schedules/{pk}/oncall/", {"at": "2026-03-29T06:30:00Z"})
    assert now.status_code == 200
    assert now.data["user"]["username"] == "responder"  # turn 6 (even)
    assert admin_api.get(f"/api/v1/schedules/{pk}/oncall/", {"at": "2026-03-29T05:59:00Z"}).data["user"] is None  # 07:59 Berlin
    everyone = admin_api.get("/api/v1/schedules/oncall/", {"at": "2026-03-30T07:00:00Z"})
    assert everyone.data["results"][0]["user"]["username"] == "responder2"


def test_shifts_between_two_instants_with_gaps(viewer_api, responder, responder2):
    schedule = make_schedule("Days", [responder, responder2], rotation="daily")
    layer = schedule.layers.get()
    Restriction.objects.create(layer=layer, weekdays=list(range(7)), start_time="09:00", end_time="17:00")
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    resp = viewer_api.get(f"/api/v1/schedules/{schedule.pk}/shifts/", {"start": start.isoformat(), "end": (start + timedelta(days=2)).isoformat()})
    assert resp.status_code == 200, resp.content
    assert len(resp.data["shifts"]) == 2 and len(resp.data["gaps"]) == 3
    assert {s["user"]["username"] for s in resp.data["shifts"]} == {"responder", "responder2"}
    bad = viewer_api.get(f"/api/v1/schedules/{schedule.pk}/shifts/", {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"})
    assert bad.status_code == 400 and "after" in str(bad.data)
    naive = viewer_api.get(f"/api/v1/schedules/{schedule.pk}/shifts/", {"start": "2026-01-01T00:00", "end": "2026-01-02T00:00:00Z"})
    assert naive.status_code == 400


def test_schedule_errors_save_nothing(admin_api, responder):
    bad_zone = admin_api.post("/api/v1/schedules/", schedule_body([responder], time_zone="Nowhere/Land"), format="json")
    assert bad_zone.status_code == 400 and "Unknown time zone" in str(bad_zone.data)
    empty = schedule_body([responder])
    empty["layers"][0]["participants"] = [{"user": None, "turns": 3}]
    resp = admin_api.post("/api/v1/schedules/", empty, format="json")
    assert resp.status_code == 400 and "at least one participant" in str(resp.data)
    assert not Schedule.objects.exists() and not Layer.objects.exists()


def test_viewer_cannot_write_schedules(viewer_api, responder):
    assert viewer_api.post("/api/v1/schedules/", schedule_body([responder]), format="json").status_code == 403
    assert viewer_api.get("/api/v1/schedules/").status_code == 200


def test_update_membership_from_a_future_instant(admin_api, responder, responder2):
    pk = admin_api.post("/api/v1/schedules/", schedule_body([responder]), format="json").data["id"]
    layer = admin_api.get(f"/api/v1/schedules/{pk}/").data["layers"][0]
    body = schedule_body([responder2])
    body["layers"][0].update(id=layer["id"], effective_from="2026-04-06T06:00:00Z")
    resp = admin_api.put(f"/api/v1/schedules/{pk}/", body, format="json")
    assert resp.status_code == 200, resp.content
    assert admin_api.get(f"/api/v1/schedules/{pk}/oncall/", {"at": "2026-04-01T10:00:00Z"}).data["user"]["username"] == "responder"
    assert admin_api.get(f"/api/v1/schedules/{pk}/oncall/", {"at": "2026-04-07T10:00:00Z"}).data["user"]["username"] == "responder2"


def test_list_schedules_in_constant_queries(admin_api, responder):
    for i in range(3):
        make_schedule(f"S{i}", [responder])
    admin_api.get("/api/v1/schedules/")
    with CaptureQueriesContext(connection) as few:
        admin_api.get("/api/v1/schedules/")
    for i in range(3, 9):
        make_schedule(f"S{i}", [responder])
    with CaptureQueriesContext(connection) as many:
        assert len(admin_api.get("/api/v1/schedules/").data["results"]) == 9
    assert len(many.captured_queries) == len(few.captured_queries)


def test_overrides_api_rejects_overlap_and_inverted_ranges(responder_api, responder, responder2):
    schedule = make_schedule("Ops", [responder])
    body = {"schedule": schedule.pk, "user": responder2.pk, "start": "2026-05-01T10:00:00Z", "end": "2026-05-01T12:00:00Z"}
    assert responder_api.post("/api/v1/overrides/", body, format="json").status_code == 201
    clash = responder_api.post("/api/v1/overrides/", {**body, "start": "2026-05-01T11:00:00Z", "end": "2026-05-01T13:00:00Z"}, format="json")
    assert clash.status_code == 400 and "overlaps" in str(clash.data)
    inverted = responder_api.post("/api/v1/overrides/", {**body, "start": "2026-05-02T12:00:00Z", "end": "2026-05-02T10:00:00Z"}, format="json")
    assert inverted.status_code == 400
    assert Override.objects.count() == 1
    at = responder_api.get(f"/api/v1/schedules/{schedule.pk}/oncall/", {"at": "2026-05-01T11:00:00Z"})
    assert at.data["user"]["username"] == "responder2"


def test_escalation_policy_api_round_trip_and_level_without_target(admin_api, responder, sev):
    svc = ServiceFactory(slug="api")
    schedule = make_schedule("Ops", [responder])
    body = {"name": "Default", "repeat": 1, "services": ["api"], "levels": [
        {"delay_seconds": 0, "targets": [{"kind": "schedule", "id": schedule.pk}]},
        {"delay_seconds": 3600, "condition": "resolved", "severities": ["P0"], "targets": [{"kind": "user", "id": responder.pk}]},
    ]}
    resp = admin_api.post("/api/v1/escalation-policies/", body, format="json")
    assert resp.status_code == 201, resp.content
    assert resp.data["services"] == ["api"] and resp.data["levels"][1]["severities"] == ["P0"]
    assert svc.oncall_policy.policy.name == "Default"
    no_target = {**body, "name": "Broken", "services": [], "levels": [{"delay_seconds": 0, "targets": []}]}
    bad = admin_api.post("/api/v1/escalation-policies/", no_target, format="json")
    assert bad.status_code == 400 and "no target" in str(bad.data)
    assert EscalationPolicy.objects.count() == 1


def test_schedule_feed_url_in_api_parses(admin_api, client, responder):
    schedule = make_schedule("Feed", [responder])
    url = admin_api.get(f"/api/v1/schedules/{schedule.pk}/").data["ical_url"]
    cal = Calendar.from_ical(client.get("/" + url.split("/", 3)[3]).content)
    assert cal.walk("VEVENT")
