"""The incident page for the person just paged: what it is, who has it, what to do now;
the declare form; the 403 page; people shown by their full names."""

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from incidents import services
from incidents.models import Incident, IncidentStatus, Role, Severity, StatusUpdate, Visibility

from .factories import declare

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _header(html: str) -> str:
    """The part of the page above the first panel: what a phone shows first."""
    return html.split('id="incident-head"', 1)[1].split("</header>", 1)[0]


def _named(user, first, last):
    user.first_name, user.last_name = first, last
    user.save(update_fields=["first_name", "last_name"])
    return user


def test_header_carries_title_state_commander_and_primary_actions(responder, responder2):
    _named(responder2, "Robin", "Quinn")
    incident = declare(by=responder, title="Checkout errors", commander=responder2)
    html = _client(responder).get(incident.get_absolute_url()).content.decode()
    head = _header(html)
    for text in ("Checkout errors", "P1", "Investigating", "Robin Quinn", "Acknowledge", "Resolve", "Post update", "Page someone"):
        assert text in head, text
    assert f"/incidents/{incident.number}/resolve/" in head


def test_resolve_from_the_page_needs_no_typed_summary(responder):
    incident = declare(by=responder)
    response = _client(responder).post(f"/incidents/{incident.number}/resolve/", {}, follow=True)
    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED and incident.resolution_summary == ""
    assert f"{incident.number} resolved" in response.content.decode()


def test_resolve_through_the_api_needs_no_summary(responder_api, responder):
    incident = declare(by=responder)
    response = responder_api.post(f"/api/v1/incidents/{incident.number}/resolve/", {}, format="json")
    assert response.status_code == 200, response.content
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED


def test_update_form_never_publishes_and_offers_the_publish_form(responder, admin_user):
    incident = declare(by=responder)
    client = _client(admin_user)
    client.post(f"/incidents/{incident.number}/update/", {"body": "Internal detail: db-7 is on fire", "visibility": Visibility.PUBLIC})
    update = StatusUpdate.objects.get(incident=incident)
    assert update.visibility == Visibility.INTERNAL
    html = client.get(incident.get_absolute_url()).content.decode()
    assert 'name="visibility"' not in html
    assert f"/statuspage/incidents/{incident.number}/publish/" in html and "Post publicly" in html


def test_declare_form_has_no_default_severity_and_describes_each(responder):
    html = _client(responder).get("/incidents/new/").content.decode()
    assert not re.search(r'name="severity"[^>]*checked', html)
    assert "selected" not in html.split('name="severity"', 1)[1].split("</fieldset>", 1)[0] or "<select" not in html
    for sev in Severity.objects.filter(is_active=True):
        assert sev.description.split("\n")[0][:30] in html


def test_declare_without_severity_is_refused(responder):
    response = _client(responder).post("/incidents/new/", {"title": "Something", "detection_source": "staff"})
    assert response.status_code == 400 or Incident.objects.count() == 0
    assert Incident.objects.count() == 0


def test_declarer_becomes_commander_unless_someone_else_is_chosen(responder, responder2, sev):
    client = _client(responder)
    client.post("/incidents/new/", {"title": "Mine", "severity": sev("P2").pk, "detection_source": "staff"})
    mine = Incident.objects.get(title="Mine")
    assert mine.members.get(role=Role.COMMANDER).user == responder
    client.post("/incidents/new/", {"title": "Theirs", "severity": sev("P2").pk, "detection_source": "staff", "commander": responder2.pk})
    assert Incident.objects.get(title="Theirs").members.get(role=Role.COMMANDER).user == responder2


def test_only_active_responders_are_offered_as_commander(responder, viewer, outsider, django_user_model):
    gone = django_user_model.objects.create_user("gone", first_name="Gone", last_name="Away", is_active=False)
    gone.groups.add(Group.objects.get(name="Responder"))
    _named(responder, "Ada", "Lovelace")
    response = _client(responder).get("/incidents/new/")
    choices = {u.pk for u in response.context["form"].fields["commander"].queryset}
    assert responder.pk in choices
    assert viewer.pk not in choices and outsider.pk not in choices and gone.pk not in choices
    assert "Ada Lovelace" in response.content.decode()


def test_staff_403_is_a_styled_page_with_the_reason(viewer):
    response = _client(viewer).get("/incidents/new/")
    assert response.status_code == 403
    html = response.content.decode()
    assert 'aria-label="Main"' in html  # the navigation
    assert "permission" in html.lower() and "add incident" in html


def test_api_403_stays_json(viewer_api):
    response = viewer_api.post("/api/v1/incidents/", {"title": "x"}, format="json")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")


def test_people_are_shown_by_full_name_on_the_incident_page(responder, responder2, viewer):
    _named(responder, "Ada", "Lovelace")
    _named(responder2, "Robin", "Quinn")
    incident = declare(by=responder, commander=responder2)
    services.incident_post_update(incident=incident, body="Looking", by=responder)
    html = _client(viewer).get(incident.get_absolute_url()).content.decode()
    assert "Robin Quinn" in html and "Ada Lovelace" in html
    assert ">responder<" not in html and " responder2" not in html


def test_no_raw_none_on_the_incident_pages(admin_user, responder):
    from django.utils.html import strip_tags

    from incidents.statuspage import services as statuspage
    from incidents.statuspage.models import StatusComponent

    from .factories import ServiceFactory

    service = ServiceFactory(name="Payments", slug="payments")
    component = statuspage.component_save(component=StatusComponent(service=service, name="Payments API"))
    incident = declare(by=responder, services=[service])
    statuspage.incident_publish_update(incident=incident, body="Looking", by=responder, components={component: "operational"})
    client = _client(admin_user)
    for url in ("/", "/incidents/", incident.get_absolute_url(), f"/incidents/{incident.number}/communications/",
                f"/statuspage/incidents/{incident.number}/publish/", "/incidents/new/"):
        text = strip_tags(client.get(url).content.decode())
        assert not re.search(r"\bNone\b(?! yet)", text), (url, re.findall(r"[^\n]{0,60}\bNone\b(?! yet)[^\n]{0,30}", text))
