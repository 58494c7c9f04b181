"""The change log of what decides who gets paged: schedules, overrides, contact methods and
rules, integrations. Written by the services (pages and API alike) with who; shown on the
object's page."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from incidents.integrations.services import configuration
from oncall.models import Override, Schedule
from oncall.notifications.models import ContactMethod, NotificationRule
from tests.incidents.factories import ServiceFactory

from .conftest import make_schedule

pytestmark = pytest.mark.django_db


def _log(obj):
    return [(e.user.username, e.get_change_message()) for e in LogEntry.objects.filter(
        object_id=str(obj.pk), content_type__model=obj._meta.model_name).order_by("action_time", "pk")]


def test_schedule_changes_from_the_pages_and_the_api_are_logged_and_shown(client, admin_user, admin_api, responder, responder2):
    client.force_login(admin_user)
    response = client.post(reverse("oncall:schedule_new"), {
        "name": "Payments", "time_zone": "Europe/Berlin", "layer-name": "Primary", "layer-rotation": "weekly", "layer-every": 1,
        "layer-handoff_time": "09:00", "layer-handoff_weekday": 0, "layer-starts_on": "2026-01-05", "layer-participants": "responder"})
    assert response.status_code == 302
    schedule = Schedule.objects.get(name="Payments")
    layer = schedule.layers.get()
    client.post(reverse("oncall:layer_edit", args=[layer.pk]), {
        "name": "Primary", "rotation": "weekly", "every": 1, "handoff_time": "09:00", "handoff_weekday": 0,
        "starts_on": "2026-01-05", "participants": "responder\nresponder2"})
    start = timezone.now() + timedelta(days=1)
    created = admin_api.post("/api/v1/overrides/", {
        "schedule": schedule.pk, "user": responder2.pk, "start": start.isoformat(), "end": (start + timedelta(hours=8)).isoformat(),
    }, format="json")
    assert created.status_code == 201, created.content
    client.post(reverse("oncall:override_delete", args=[Override.objects.get().pk]))

    log = _log(schedule)
    assert [who for who, _ in log] == ["boss"] * 4
    assert log[0][1] == "in Europe/Berlin, layers Primary"
    assert log[1][1] == "layer “Primary” changed; participants Responder → Responder, Responder2"
    assert log[2][1].startswith("override added: Responder2, ") and log[3][1].startswith("override removed: Responder2, ")
    page = client.get(schedule.get_absolute_url()).content.decode()
    assert "override removed: Responder2" in page and "Boss" in page


def test_contact_method_and_rule_changes_are_logged_on_the_person(client, responder):
    client.force_login(responder)
    client.post(reverse("notifications:method_create"), {
        "kind": "email", "target": "pager@example.com", "label": "Pager", "rate_limit_count": 5, "rate_limit_minutes": 10})
    method = ContactMethod.objects.get(user=responder, target="pager@example.com")
    client.post(reverse("notifications:rule_create"), {"user": responder.pk, "contact_method": method.pk, "delay_minutes": 5})
    rule = NotificationRule.objects.get(contact_method=method, delay_minutes=5)
    client.post(reverse("notifications:rule_delete", args=[rule.pk]))
    client.post(reverse("notifications:method_delete", args=[method.public_id]))

    assert _log(responder) == [
        ("responder", "contact method added: Email pager@example.com (Pager)"),
        ("responder", "rule added: Email pager@example.com (Pager) after 5 min, high urgency"),
        ("responder", "rule deleted: Email pager@example.com (Pager) after 5 min, high urgency"),
        ("responder", "contact method deleted: Email pager@example.com (Pager)"),
    ]
    page = client.get(reverse("notifications:person", args=[responder.pk])).content.decode()
    assert "contact method deleted: Email pager@example.com (Pager)" in page


def test_integration_changes_are_logged_without_the_key(client, admin_user, sev):
    integration, key = configuration.integration_create(
        name="Prometheus", service=ServiceFactory(name="API"), kind="alertmanager", default_severity=sev("P2"), by=admin_user)
    client.force_login(admin_user)
    client.post(f"/integrations/{integration.public_id}/rotate-key/")
    client.post(f"/integrations/{integration.public_id}/revoke/")

    log = _log(integration)
    assert log == [("boss", "Prometheus Alertmanager for API"), ("boss", "key rotated; the old key stopped working"), ("boss", "revoked")]
    assert not any(key in message for _, message in log)
    assert "key rotated" in client.get(integration.get_absolute_url()).content.decode()


def test_system_work_is_not_attributed_to_anyone(responder):
    make_schedule("Seeded", [responder])  # no `by`: demo data, seeding, tests
    assert not LogEntry.objects.exists()
