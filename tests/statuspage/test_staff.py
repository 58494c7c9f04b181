"""Staff side: the one-step public update from the incident page, maintenance windows in the
staff pages, the admin and the API (/api/v1/status-components/, /api/v1/maintenances/)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import Maintenance
from incidents.statuspage.models import MaintenanceUpdate, PublicIncident, StatusComponent
from tests.incidents.factories import ServiceFactory, declare

pytestmark = pytest.mark.django_db


def _publish_url(incident):
    return f"/statuspage/incidents/{incident.number}/publish/"


def test_incident_page_shows_the_status_page_panel(client, responder, components):
    inc = declare("Checkout errors", by=responder)
    client.force_login(responder)
    html = client.get(inc.get_absolute_url()).content.decode()
    assert "Status page" in html and "Not on the public page" in html and _publish_url(inc) in html


def test_comms_lead_publishes_in_one_step_with_template_and_preview(client, responder, components):
    api = components["api"]
    inc = declare("Checkout errors", by=responder, services=[api.service], impact="Card payments fail")
    client.force_login(responder)
    page = client.get(_publish_url(inc)).content.decode()
    assert "External notice" in page and "Card payments fail" in page  # started from the matching template
    assert 'value="partial_outage" selected' in page  # the incident's service preselected
    form = {"name": "Payment problems", "status": "identified", "template": "", "body": "We found **the cause**.",
            f"component_{api.pk}": "major_outage", f"component_{components['web'].pk}": ""}
    preview = client.post(_publish_url(inc), {**form, "preview": "1"})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "<strong>the cause</strong>" in html and "Major outage" in html
    assert not PublicIncident.objects.exists()  # a preview publishes nothing
    loaded = client.post(_publish_url(inc), {**form, "load": "1", "status": "resolved"}).content.decode()
    assert "Resolution notice" in loaded or "External notice" in loaded
    done = client.post(_publish_url(inc), {**form, "publish": "1"})
    assert done.status_code == 302 and done["Location"] == inc.get_absolute_url()
    pub = PublicIncident.objects.get(incident=inc)
    assert pub.name == "Payment problems"
    assert StatusComponent.objects.get(pk=api.pk).status == "major_outage"
    inc.refresh_from_db()
    assert inc.status == "identified"
    assert inc.updates.get().visibility == "public"
    assert client.get(f"/status/incidents/{pub.code}/").status_code == 200


def test_publish_rejects_empty_body_and_needs_permission(client, responder, viewer, components):
    inc = declare("X", by=responder)
    client.force_login(responder)
    response = client.post(_publish_url(inc), {"name": "X", "status": "investigating", "body": "", "publish": "1"})
    assert response.status_code == 400 and not PublicIncident.objects.exists()
    client.force_login(viewer)
    assert client.get(_publish_url(inc)).status_code == 403
    assert client.get("/statuspage/incidents/INC-NOPE/publish/").status_code in (403, 404)


def test_maintenance_created_and_moved_in_the_staff_pages(client, responder, components):
    client.force_login(responder)
    start = timezone.now() + timedelta(days=1)
    response = client.post("/statuspage/maintenances/new/", {
        "title": "Switch firmware", "description": "Brief blips.", "services": [components["web"].service.pk],
        "scheduled_for": start.strftime("%Y-%m-%dT%H:%M"), "scheduled_until": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "public": "on", "suppress_alerts": "on",
    })
    assert response.status_code == 302
    m = Maintenance.objects.get()
    assert m.statuspage.code and MaintenanceUpdate.objects.get(maintenance=m).body == "Brief blips."
    assert "Switch firmware" in client.get("/statuspage/").content.decode()
    bad = client.post("/statuspage/maintenances/new/", {
        "title": "Bad", "services": [components["web"].service.pk],
        "scheduled_for": start.strftime("%Y-%m-%dT%H:%M"), "scheduled_until": start.strftime("%Y-%m-%dT%H:%M"),
    })
    assert bad.status_code == 400 and "must end after" in bad.content.decode()
    step = client.post(f"/statuspage/maintenances/{m.pk}/", {"step": "1", "status": "in_progress", "body": "Starting early."})
    assert step.status_code == 302
    assert StatusComponent.objects.get(pk=components["web"].pk).status == "under_maintenance"


def test_api_status_components(admin_api, viewer_api, responder_api, components):
    listing = viewer_api.get("/api/v1/status-components/")
    assert listing.status_code == 200 and len(listing.json()["results"]) == 3
    service = ServiceFactory(name="Search", slug="search")
    created = admin_api.post("/api/v1/status-components/", {"service": "search", "name": "Search", "override": "major_outage"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "major_outage"
    code = created.json()["id"]
    patched = admin_api.patch(f"/api/v1/status-components/{code}/", {"override": ""}, format="json")
    assert patched.json()["status"] == "operational"
    assert responder_api.post("/api/v1/status-components/", {"service": service.slug}, format="json").status_code == 403
    dup = admin_api.post("/api/v1/status-components/", {"service": "search"}, format="json")
    assert dup.status_code == 400


def test_api_maintenances(responder_api, viewer_api, components):
    start = timezone.now() + timedelta(hours=3)
    body = {"title": "Upgrade", "services": ["db"], "scheduled_for": start.isoformat(), "scheduled_until": (start + timedelta(hours=1)).isoformat()}
    created = responder_api.post("/api/v1/maintenances/", body, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["status"] == "scheduled" and data["public_id"]
    bad = responder_api.post("/api/v1/maintenances/", {**body, "scheduled_until": body["scheduled_for"]}, format="json")
    assert bad.status_code == 400
    step = responder_api.post(f"/api/v1/maintenances/{data['id']}/step/", {"status": "in_progress"}, format="json")
    assert step.status_code == 200 and step.json()["status"] == "in_progress"
    wrong = responder_api.post(f"/api/v1/maintenances/{data['id']}/step/", {"status": "scheduled"}, format="json")
    assert wrong.status_code == 409
    assert viewer_api.post("/api/v1/maintenances/", body, format="json").status_code == 403
    assert len(viewer_api.get("/api/v1/maintenances/").json()["results"]) == 1


def test_admin_maintenance_gets_the_status_page_follow_up(client, admin_user, components):
    client.force_login(admin_user)
    start = timezone.now() + timedelta(days=3)
    response = client.post("/admin/incidents/maintenance/add/", {
        "title": "Admin window", "description": "From the admin.", "services": [components["api"].service.pk],
        "scheduled_for_0": start.strftime("%Y-%m-%d"), "scheduled_for_1": "10:00:00",
        "scheduled_until_0": start.strftime("%Y-%m-%d"), "scheduled_until_1": "11:00:00",
        "status": "scheduled", "public": "on", "suppress_alerts": "on",
        "public_updates-TOTAL_FORMS": "0", "public_updates-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    m = Maintenance.objects.get()
    assert m.statuspage.code and MaintenanceUpdate.objects.filter(maintenance=m, status="scheduled").exists()
    assert client.get("/admin/statuspage/statuscomponent/").status_code == 200
    assert client.get("/admin/statuspage/pagesettings/").status_code == 200


def test_metrics_expose_notifications_and_components(client, components):
    body = client.get("/metrics").content.decode()
    assert 'portal_deliveries_queued{purpose="statuspage",state="pending"} 0.0' in body  # subscriber messages
    assert 'portal_statuspage_components{status="operational"} 3.0' in body
