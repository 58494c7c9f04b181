"""The admin writes schedules, layers, overrides and policies through the services: the same
checks (overlaps, paged schedules, levels) and the same audit entries as the pages and the API."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from oncall.models import Condition, EscalationPolicy, Layer, Override, Schedule

from .conftest import make_policy, make_schedule

pytestmark = pytest.mark.django_db


def _log(obj):
    return [(e.user.username, e.get_change_message()) for e in LogEntry.objects.filter(
        object_id=str(obj.pk), content_type__model=obj._meta.model_name).order_by("action_time", "pk")]


def _schedule_form(schedule, **overrides):
    data = {"name": schedule.name, "time_zone": schedule.time_zone, "description": schedule.description,
            "layers-TOTAL_FORMS": schedule.layers.count(), "layers-INITIAL_FORMS": schedule.layers.count(),
            "overrides-TOTAL_FORMS": 0, "overrides-INITIAL_FORMS": 0}
    for i, layer in enumerate(schedule.layers.order_by("position")):
        data[f"layers-{i}-id"] = layer.pk
        data[f"layers-{i}-schedule"] = schedule.pk
    data.update(overrides)
    return data


def test_schedule_added_and_changed_in_the_admin_is_checked_and_audited(client, admin_user):
    client.force_login(admin_user)
    bad = client.post("/admin/oncall/schedule/add/", {"name": "Ops", "time_zone": "Mars/Olympus", "description": "",
                                                      "layers-TOTAL_FORMS": 0, "layers-INITIAL_FORMS": 0,
                                                      "overrides-TOTAL_FORMS": 0, "overrides-INITIAL_FORMS": 0})
    assert bad.status_code == 200 and "Unknown time zone" in bad.text
    assert not Schedule.objects.exists()
    ok = client.post("/admin/oncall/schedule/add/", {"name": "Ops", "time_zone": "Europe/Berlin", "description": "",
                                                     "layers-TOTAL_FORMS": 0, "layers-INITIAL_FORMS": 0,
                                                     "overrides-TOTAL_FORMS": 0, "overrides-INITIAL_FORMS": 0})
    assert ok.status_code == 302
    schedule = Schedule.objects.get()
    version = schedule.version
    changed = client.post(f"/admin/oncall/schedule/{schedule.pk}/change/", _schedule_form(schedule, time_zone="Europe/Paris"))
    assert changed.status_code == 302
    schedule.refresh_from_db()
    assert schedule.time_zone == "Europe/Paris" and schedule.version == version + 1
    assert _log(schedule) == [("boss", "in Europe/Berlin"), ("boss", "Changed time zone. Time zone Europe/Paris.")]


def test_override_added_in_the_admin_meets_the_overlap_check_and_is_audited(client, admin_user, responder, responder2):
    schedule = make_schedule("Rota", [responder])
    start = timezone.now().replace(microsecond=0) + timedelta(days=1)
    client.force_login(admin_user)

    def add(user, begin, end):
        return client.post("/admin/oncall/override/add/", {
            "schedule": schedule.pk, "user": user.pk, "start_0": f"{begin:%Y-%m-%d}", "start_1": f"{begin:%H:%M:%S}",
            "end_0": f"{end:%Y-%m-%d}", "end_1": f"{end:%H:%M:%S}", "reason": "swap"})

    assert add(responder2, start, start + timedelta(hours=4)).status_code == 302
    clash = add(responder, start + timedelta(hours=1), start + timedelta(hours=5))
    assert clash.status_code == 200 and "overlaps another override" in clash.text
    assert Override.objects.count() == 1
    override = Override.objects.get()
    assert client.post(f"/admin/oncall/override/{override.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Override.objects.exists()
    log = _log(schedule)
    assert log[0][1].startswith("override added: Responder2") and log[1][1].startswith("override removed: Responder2")


def test_a_paged_schedule_or_layer_is_not_deleted_from_the_admin(client, admin_user, responder):
    schedule = make_schedule("Rota", [responder])
    layer = schedule.layers.get()
    make_policy([(0, Condition.NOT_ACKNOWLEDGED, [("layer", layer)])])
    client.force_login(admin_user)
    client.post(f"/admin/oncall/layer/{layer.pk}/delete/", {"post": "yes"})
    client.post("/admin/oncall/layer/", {"action": "delete_selected", "_selected_action": [layer.pk], "post": "yes"})
    assert Layer.objects.filter(pk=layer.pk).exists()


def test_layer_rotation_changed_in_the_admin_keeps_participants_and_is_audited(client, admin_user, responder, responder2):
    schedule = make_schedule("Rota", [responder, responder2])
    layer = schedule.layers.get()
    client.force_login(admin_user)
    response = client.post(f"/admin/oncall/layer/{layer.pk}/change/", {
        "name": "Primary", "starts_on": f"{layer.starts_on:%Y-%m-%d}", "rotation": "daily", "every": 2,
        "handoff_time": "09:00:00", "handoff_weekday": layer.handoff_weekday, "ends_at_0": "", "ends_at_1": "",
        "memberships-TOTAL_FORMS": 1, "memberships-INITIAL_FORMS": 1, "memberships-0-id": layer.memberships.get().pk,
        "memberships-0-layer": layer.pk, "restrictions-TOTAL_FORMS": 0, "restrictions-INITIAL_FORMS": 0})
    assert response.status_code == 302, response.text[-2000:]
    layer.refresh_from_db()
    assert (layer.rotation, layer.every) == ("daily", 2)
    assert [m.user for m in layer.memberships.get().members.order_by("position")] == [responder, responder2]
    assert _log(schedule) == [("boss", "layer “Primary” changed")]


def test_policy_renamed_in_the_admin_keeps_its_levels_and_is_audited(client, admin_user, responder):
    policy = make_policy([(0, Condition.NOT_ACKNOWLEDGED, [("user", responder)], ["P1"])], name="Old")
    client.force_login(admin_user)
    response = client.post(f"/admin/oncall/escalationpolicy/{policy.pk}/change/", {
        "name": "New", "description": "", "repeat": 11, "repeat_after_seconds": 900,
        "levels-TOTAL_FORMS": 1, "levels-INITIAL_FORMS": 1, "levels-0-id": policy.levels.get().pk, "levels-0-policy": policy.pk,
        "service_links-TOTAL_FORMS": 0, "service_links-INITIAL_FORMS": 0,
        "integration_links-TOTAL_FORMS": 0, "integration_links-INITIAL_FORMS": 0,
        "type_links-TOTAL_FORMS": 0, "type_links-INITIAL_FORMS": 0})
    assert response.status_code == 200 and "Repeat between 0 and 10 times" in response.text
    response = client.post(f"/admin/oncall/escalationpolicy/{policy.pk}/change/", {
        "name": "New", "description": "", "repeat": 2, "repeat_after_seconds": 900,
        "levels-TOTAL_FORMS": 1, "levels-INITIAL_FORMS": 1, "levels-0-id": policy.levels.get().pk, "levels-0-policy": policy.pk,
        "service_links-TOTAL_FORMS": 0, "service_links-INITIAL_FORMS": 0,
        "integration_links-TOTAL_FORMS": 0, "integration_links-INITIAL_FORMS": 0,
        "type_links-TOTAL_FORMS": 0, "type_links-INITIAL_FORMS": 0})
    assert response.status_code == 302, response.text[-2000:]
    policy = EscalationPolicy.objects.get()
    assert (policy.name, policy.repeat) == ("New", 2)
    [level] = policy.levels.all()
    assert [t.user for t in level.targets.all()] == [responder] and [s.key for s in level.severities.all()] == ["P1"]
    assert _log(policy) == [("boss", "1 level, repeats 2×")]
    assert client.get("/admin/oncall/escalationpolicy/add/").status_code == 403
