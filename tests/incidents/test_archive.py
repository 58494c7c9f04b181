"""Nothing destructive loses history: what anything refers to is archived, not deleted; a real
delete of something unreferenced is audited; people are deactivated."""

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import ProtectedError
from django.test import Client
from django.utils import timezone

from incidents import services as incident_services
from incidents.models import Incident, Role, Service
from incidents.statuspage.models import ComponentImpact, ComponentStatusPeriod, StatusComponent
from tests.incidents.factories import ServiceFactory, declare


@pytest.fixture
def used_service(db, responder):
    service = ServiceFactory(name="Payments", slug="payments")
    component = StatusComponent.objects.create(service=service, name="Payments")
    incident = declare(services=[service], by=responder)
    ComponentImpact.objects.create(incident=incident, component=component, status="major_outage")
    ComponentStatusPeriod.objects.create(component=component, status="major_outage", started_at=timezone.now())
    return service, component, incident


def test_deleting_a_service_that_incidents_name_is_refused_and_keeps_history(admin_api, used_service):
    service, component, incident = used_service
    response = admin_api.delete(f"/api/v1/services/{service.slug}/")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "in_use"
    assert "incident" in body["message"] and "archive" in body["message"]
    assert Service.objects.filter(pk=service.pk).exists()
    assert list(Incident.objects.get(pk=incident.pk).services.all()) == [service]
    assert StatusComponent.objects.filter(pk=component.pk).exists()
    assert ComponentImpact.objects.filter(component=component).count() == 1
    assert ComponentStatusPeriod.objects.filter(component=component).count() == 1


def test_archiving_a_service_hides_it_from_pickers_and_keeps_it_on_past_incidents(admin_api, responder_api, admin_user, used_service):
    service, _component, incident = used_service
    response = admin_api.post(f"/api/v1/services/{service.slug}/archive/")
    assert response.status_code == 200
    assert response.json()["archived_at"]
    assert LogEntry.objects.filter(user=admin_user, object_id=str(service.pk), change_message__icontains="archived").exists()
    # No longer offered for new incidents...
    refused = responder_api.post("/api/v1/incidents/", {"title": "x", "severity": "P2", "services": [service.slug]}, format="json")
    assert refused.status_code == 400
    assert service.slug not in [s["slug"] for s in admin_api.get("/api/v1/services/?archived=false").json()["results"]]
    # ...still named by the incidents that had it.
    detail = responder_api.get(f"/api/v1/incidents/{incident.number}/").json()
    assert service.slug in str(detail["services"])
    # ...and off the public page with it (its cache catches up within STATUSPAGE_CACHE_SECONDS; bumped here).
    from incidents.statuspage import cache

    cache.bump()
    assert "Payments" not in [c["name"] for c in Client().get("/status/api/v2/components.json").json()["components"]]


def test_deleting_an_unreferenced_service_is_audited(admin_api, admin_user):
    service = ServiceFactory(name="Spare", slug="spare")
    assert admin_api.delete(f"/api/v1/services/{service.slug}/").status_code == 204
    assert not Service.objects.filter(pk=service.pk).exists()
    entry = LogEntry.objects.get(user=admin_user, object_id=str(service.pk))
    assert entry.action_flag == DELETION and entry.object_repr == "Spare"


def test_status_component_with_history_is_archived_not_deleted(admin_api, used_service, client):
    _service, component, _incident = used_service
    assert admin_api.delete(f"/api/v1/status-components/{component.code}/").status_code == 409
    assert admin_api.post(f"/api/v1/status-components/{component.code}/archive/").status_code == 200
    component.refresh_from_db()
    assert component.archived_at is not None
    names = [c["name"] for c in client.get("/status/api/v2/components.json").json()["components"]]
    assert "Payments" not in names
    assert ComponentImpact.objects.filter(component=component).exists()


def test_a_person_with_history_cannot_be_deleted_even_in_code(responder, admin_user):
    incident = declare(by=admin_user)
    incident_services.incident_assign_role(incident=incident, role=Role.COMMANDER, user=responder, by=admin_user)
    with pytest.raises(ProtectedError):
        responder.delete()
    assert get_user_model().objects.filter(pk=responder.pk).exists()
    assert incident.members.filter(user=responder).exists()


def test_the_admin_log_never_loses_a_row_to_a_deleted_person(admin_user, responder, admin_api):
    admin_api.post(f"/api/v1/users/{responder.pk}/deactivate/")
    assert LogEntry.objects.filter(user=admin_user).exists()
    with pytest.raises(ProtectedError), transaction.atomic():
        admin_user.delete()
    assert LogEntry.objects.filter(user=admin_user).exists()


def test_archiving_an_integration_revokes_it_hides_it_and_keeps_its_alerts(admin_api, admin_user, responder_api):
    from incidents.integrations.models import Alert, Integration
    from incidents.integrations.services import configuration, ingest

    service = ServiceFactory(name="Database", slug="database")
    integration, key = configuration.integration_create(name="prod", service=service, kind="webhook", by=admin_user)
    alert = ingest.integration_send_test_alert(integration=integration, by=admin_user)
    response = admin_api.post(f"/api/v1/integrations/{integration.public_id}/archive/")
    assert response.status_code == 200
    body = response.json()
    assert body["archived_at"] and body["revoked_at"]
    assert admin_api.post(f"/api/v1/integrations/{key}/webhook/", {"title": "x"}, format="json").status_code == 404
    listed = [i["id"] for i in admin_api.get("/api/v1/integrations/?archived=false").json()["results"]]
    assert str(integration.public_id) not in listed
    assert Alert.objects.filter(pk=alert.pk).exists()
    with pytest.raises(ProtectedError), transaction.atomic():
        Integration.objects.filter(pk=integration.pk).delete()


def test_a_schedule_with_handoff_history_is_archived_not_deleted(admin_api, admin_user, responder):
    from oncall.models import Handoff, Schedule
    from tests.oncall.conftest import make_schedule

    schedule = make_schedule("Platform", [responder])
    Handoff.objects.create(schedule=schedule, due_at=timezone.now(), incoming=responder, status="sent", report="quiet week")
    refused = admin_api.delete(f"/api/v1/schedules/{schedule.pk}/")
    assert refused.status_code == 409 and "archive" in refused.json()["message"]
    assert admin_api.post(f"/api/v1/schedules/{schedule.pk}/archive/").status_code == 200
    assert Schedule.objects.get(pk=schedule.pk).archived_at is not None
    names = [r["schedule"] for r in admin_api.get("/api/v1/schedules/oncall/").json()["results"]]
    assert schedule.pk not in names
    assert Handoff.objects.filter(schedule=schedule).exists()


def test_the_admin_archives_what_is_referenced_and_deletes_the_rest_once_audited(admin_user, used_service):
    from django.urls import reverse

    service, _component, _incident = used_service
    spare = ServiceFactory(name="Spare", slug="spare")
    client = Client()
    client.force_login(admin_user)
    assert client.get(reverse("admin:incidents_service_delete", args=[service.pk])).status_code == 403
    client.post(reverse("admin:incidents_service_changelist"), {"action": "archive_selected", "_selected_action": [service.pk]})
    service.refresh_from_db()
    assert service.archived_at is not None
    assert client.post(reverse("admin:incidents_service_delete", args=[spare.pk]), {"post": "yes"}).status_code == 302
    assert not Service.objects.filter(pk=spare.pk).exists()
    assert LogEntry.objects.filter(object_id=str(spare.pk), action_flag=DELETION).count() == 1


def test_the_admin_cannot_delete_an_incident_or_its_history(admin_user, used_service):
    """An incident and its timeline are the record: the admin offers no delete for them (a
    superuser included), so nothing cascades away from the history."""
    incident = Incident.objects.get()
    event = incident.timeline.first()
    client = Client()
    client.force_login(admin_user)
    for url in (f"/admin/incidents/incident/{incident.pk}/delete/", f"/admin/incidents/timelineevent/{event.pk}/delete/"):
        assert client.post(url, {"post": "yes"}).status_code == 403
    assert Incident.objects.filter(pk=incident.pk).exists() and incident.timeline.filter(pk=event.pk).exists()
