"""Public communication is one path: the publish form (with its preview) or the API through the
same service; resolving a public incident says so on the status page and restores its components."""

import pytest

from incidents import services as core
from incidents.communications import render_template
from incidents.models import CommunicationTemplate, IncidentStatus, Visibility
from incidents.statuspage import services
from incidents.statuspage.models import PublicIncident, StatusComponent
from tests.incidents.factories import declare

from .conftest import run_worker_events

pytestmark = pytest.mark.django_db


def _public(components, responder):
    api = components["api"]
    inc = declare("Checkout errors", by=responder, services=[api.service], impact="Card payments fail")
    services.incident_publish_update(incident=inc, body="We are looking into it.", by=responder,
                                     components={api: "major_outage"}, name="Payment problems")
    run_worker_events()
    return inc, api


def test_resolving_a_public_incident_posts_a_public_resolved_update(components, responder):
    inc, api = _public(components, responder)
    core.incident_resolve(incident=inc, by=responder)
    run_worker_events()
    run_worker_events()  # a redelivery posts nothing twice
    last = inc.updates.filter(visibility=Visibility.PUBLIC).order_by("-created_at", "-pk")
    assert last.count() == 2
    assert last[0].status == IncidentStatus.RESOLVED and "resolved" in last[0].body.lower()
    assert StatusComponent.objects.get(pk=api.pk).status == "operational"


def test_resolving_with_an_edited_public_message_uses_it(client, components, responder):
    inc, _api = _public(components, responder)
    client.force_login(responder)
    page = client.get(inc.get_absolute_url()).content.decode()
    assert 'name="public_message"' in page  # editable at resolve time, for a public incident
    client.post(f"/incidents/{inc.number}/resolve/", {"public_message": "All good again, sorry!"})
    run_worker_events()
    last = inc.updates.filter(visibility=Visibility.PUBLIC).order_by("-created_at", "-pk").first()
    assert last.body == "All good again, sorry!" and last.status == IncidentStatus.RESOLVED


def test_resolving_a_private_incident_publishes_nothing(components, responder):
    inc = declare("Quiet", by=responder, services=[components["api"].service])
    core.incident_resolve(incident=inc, by=responder)
    run_worker_events()
    assert not inc.updates.filter(visibility=Visibility.PUBLIC).exists()
    assert not PublicIncident.objects.filter(incident=inc).exists()


def test_panel_shows_the_public_state_truthfully(client, components, responder):
    inc, _api = _public(components, responder)
    client.force_login(responder)
    html = client.get(inc.get_absolute_url()).content.decode()
    panel = html.split('id="status-page"', 1)[1].split("</section>", 1)[0]
    assert "Not on the public page" not in panel and "Payment problems" in panel
    assert "Investigating" in panel  # the public status as the page shows it
    assert "None impact" not in html


def test_api_public_update_goes_through_the_publish_service(responder_api, viewer_api, components, responder, api_for, django_user_model):
    inc = declare("Checkout errors", by=responder)
    response = responder_api.post(f"/api/v1/incidents/{inc.number}/updates/", {"body": "We are on it", "visibility": "public"}, format="json")
    assert response.status_code == 201, response.content
    assert PublicIncident.objects.filter(incident=inc).exists()  # published by the one service, not a bare row


def test_api_public_update_needs_the_publish_permission(components, responder, api_for, django_user_model):
    from django.contrib.auth.models import Permission
    inc = declare("Checkout errors", by=responder)
    someone = django_user_model.objects.create_user("someone", "s@example.com", "pw-123456")
    someone.user_permissions.add(*Permission.objects.filter(codename__in=["respond_incident", "view_incident"]))
    response = api_for(someone).post(f"/api/v1/incidents/{inc.number}/updates/", {"body": "x", "visibility": "public"}, format="json")
    assert response.status_code == 403, response.content
    assert not inc.updates.exists()


def test_external_notice_reads_right_for_an_open_incident(components, responder):
    inc = declare("Checkout errors", by=responder, impact="Card payments fail")
    text = render_template(CommunicationTemplate.objects.get(name="External notice"), inc)
    assert "We experienced" not in text and "now operating normally" not in text
    assert "investigating" in text.lower()
    core.incident_resolve(incident=inc, by=responder)  # no summary typed
    inc.refresh_from_db()
    text = render_template(CommunicationTemplate.objects.get(name="External notice"), inc)
    assert "operating normally" in text
