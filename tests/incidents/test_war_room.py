"""War rooms (a conference bridge per incident, from the severity's pattern or pasted) and an
incident's links (chat thread, tickets, dashboards, documents), through the page, the API and
the services, each change on the timeline."""

import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from incidents import communications, outgoing, services
from incidents.exceptions import InvalidInput, InvalidTransition
from incidents.models import CommunicationTemplate, EventKind, Severity
from incidents.models.catalog import validate_war_room_pattern, war_room_url

from .factories import declare

pytestmark = pytest.mark.django_db


def _auto(key, pattern="https://meet.example.com/{number}", auto=True):
    Severity.objects.filter(key=key).update(war_room_pattern=pattern, war_room_auto=auto)


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_pattern_fills_number_and_slug_only():
    assert war_room_url("https://meet.example.com/{number}", "INC-20260101-001") == "https://meet.example.com/INC-20260101-001"
    assert war_room_url("https://meet.example.com/{slug}", "INC-20260101-001") == "https://meet.example.com/inc-20260101-001"
    assert war_room_url("https://zoom.example.com/j/123", "INC-1") == "https://zoom.example.com/j/123"  # a fixed link
    assert war_room_url("javascript:alert(1)//{number}", "INC-1") == ""
    for bad in ("https://x.example/{title}", "https://x.example/{number.__class__}", "ftp://x.example/{number}", "{number}"):
        with pytest.raises(ValidationError):
            validate_war_room_pattern(bad)
    validate_war_room_pattern("https://meet.example.com/{slug}")


def test_severity_refuses_a_bad_pattern_through_the_api(admin_api):
    response = admin_api.patch("/api/v1/severities/P1/", {"war_room_pattern": "https://x.example/{title}"}, format="json")
    assert response.status_code == 400 and "war_room_pattern" in response.content.decode()
    response = admin_api.patch("/api/v1/severities/P1/", {"war_room_pattern": "https://meet.example.com/{number}", "war_room_auto": True}, format="json")
    assert response.status_code == 200, response.content
    assert Severity.objects.get(key="P1").war_room_auto


def test_declared_at_an_auto_severity_starts_the_war_room(responder):
    _auto("P1")
    incident = declare(by=responder)
    assert incident.war_room_url == f"https://meet.example.com/{incident.number}"
    event = incident.timeline.get(kind=EventKind.WAR_ROOM)
    assert event.data["how"] == "started" and incident.number in event.message


def test_lower_severity_gets_none_until_raised_to_an_auto_one(responder):
    _auto("P1")
    incident = declare(by=responder, severity="P3")
    assert incident.war_room_url == ""
    services.incident_change_severity(incident=incident, severity=Severity.objects.get(key="P2"), by=responder)
    incident.refresh_from_db()
    assert incident.war_room_url == ""
    services.incident_change_severity(incident=incident, severity=Severity.objects.get(key="P1"), by=responder)
    incident.refresh_from_db()
    assert incident.war_room_url.startswith("https://meet.example.com/INC-")
    # lowering keeps the bridge, raising again does not start a second one
    services.incident_change_severity(incident=incident, severity=Severity.objects.get(key="P2"), by=responder)
    services.incident_change_severity(incident=incident, severity=Severity.objects.get(key="P0"), by=responder)
    assert incident.timeline.filter(kind=EventKind.WAR_ROOM).count() == 1


def test_start_by_hand_from_the_pattern_or_pasted(responder):
    _auto("P2", pattern="https://meet.example.com/{slug}", auto=False)
    incident = declare(by=responder, severity="P2")
    assert incident.war_room_url == ""
    services.incident_start_war_room(incident=incident, by=responder)
    incident.refresh_from_db()
    assert incident.war_room_url == f"https://meet.example.com/{incident.number.lower()}"
    with pytest.raises(InvalidTransition):
        services.incident_start_war_room(incident=incident, by=responder)
    services.incident_start_war_room(incident=incident, url="https://zoom.example.com/j/42", by=responder)
    incident.refresh_from_db()
    assert incident.war_room_url == "https://zoom.example.com/j/42"
    moved = incident.timeline.filter(kind=EventKind.WAR_ROOM).last()
    assert moved.actor == responder and "moved to" in moved.message and moved.data["previous"].startswith("https://meet")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "https://a b", "http://\x01x", "x" * 600, "//evil.example"])
def test_pasting_anything_but_an_http_link_is_refused(responder, url):
    incident = declare(by=responder, severity="P3")
    with pytest.raises(InvalidInput):
        services.incident_start_war_room(incident=incident, url=url, by=responder)


def test_no_pattern_and_nothing_pasted_says_so(responder):
    incident = declare(by=responder, severity="P3")
    with pytest.raises(InvalidInput, match="paste the link"):
        services.incident_start_war_room(incident=incident, by=responder)


def test_war_room_at_the_top_of_the_page_and_started_from_it(responder, viewer):
    _auto("P1", auto=False)
    incident = declare(by=responder)
    client = _client(responder)
    response = client.post(f"/incidents/{incident.number}/war-room/", {"url": ""}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    url = f"https://meet.example.com/{incident.number}"
    assert f'href="{url}"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert html.index('id="war-room"') < html.index('id="post-update"')  # above everything but the header
    # a viewer sees the link but no form; a bad paste is a form error, not a 500
    viewer_html = _client(viewer).get(incident.get_absolute_url()).content.decode()
    assert f'href="{url}"' in viewer_html and "Move the war room" not in viewer_html
    response = client.post(f"/incidents/{incident.number}/war-room/", {"url": "javascript:alert(1)"})
    assert response.status_code == 400 and "http(s) link" in response.content.decode()


def test_links_added_and_removed_on_the_page(responder):
    incident = declare(by=responder)
    client = _client(responder)
    response = client.post(f"/incidents/{incident.number}/link/",
                           {"kind": "chat", "title": "#inc-checkout", "url": "https://chat.example.com/c/inc"}, follow=True)
    html = response.content.decode()
    assert response.status_code == 200 and 'href="https://chat.example.com/c/inc"' in html and "#inc-checkout" in html
    link = incident.links.get()
    assert link.added_by == responder
    assert incident.timeline.filter(kind=EventKind.LINK_ADDED, actor=responder).exists()
    response = client.post(f"/incidents/{incident.number}/link/", {"kind": "ticket", "title": "x", "url": "javascript:alert(1)"})
    assert response.status_code == 400
    response = client.post(f"/incidents/{incident.number}/unlink/", {"link": link.pk}, follow=True)
    assert response.status_code == 200 and not incident.links.exists()
    assert incident.timeline.filter(kind=EventKind.LINK_REMOVED, actor=responder).exists()
    response = client.post(f"/incidents/{incident.number}/unlink/", {"link": link.pk})
    assert response.status_code == 400 and "already removed" in response.content.decode()  # said, not a 500


def test_links_and_war_room_through_the_api(responder_api, viewer_api, responder):
    _auto("P1", auto=False)
    incident = declare(by=responder)
    base = f"/api/v1/incidents/{incident.number}"
    response = responder_api.post(f"{base}/war-room/", {}, format="json")
    assert response.status_code == 200 and response.json()["war_room_url"] == f"https://meet.example.com/{incident.number}"
    response = responder_api.post(f"{base}/links/", {"kind": "dashboard", "title": "Grafana", "url": "https://grafana.example.com/d/1"}, format="json")
    assert response.status_code == 201, response.content
    link_id = response.json()["id"]
    assert responder_api.post(f"{base}/links/", {"title": "x", "url": "data:text/html,1"}, format="json").status_code == 400
    assert viewer_api.post(f"{base}/links/", {"title": "x", "url": "https://x.example"}, format="json").status_code == 403
    body = viewer_api.get(f"{base}/").json()
    assert body["links"] == [{"id": link_id, "kind": "dashboard", "title": "Grafana", "url": "https://grafana.example.com/d/1",
                              "added_at": body["links"][0]["added_at"], "added_by": "responder"}]
    assert responder_api.delete(f"{base}/links/{link_id}/").status_code == 204
    assert responder_api.delete(f"{base}/links/{link_id}/").status_code == 404
    assert viewer_api.get(f"{base}/").json()["links"] == []


def test_war_room_and_links_in_the_templates_and_messages(responder):
    _auto("P1")
    incident = declare(by=responder)
    services.incident_add_link(incident=incident, title="Ticket OPS-1", url="https://tickets.example.com/OPS-1", kind="ticket")
    template = CommunicationTemplate.objects.create(
        name="Bridge", kind="initial", body="Join {{ war_room }}{% for l in links %} | {{ l.kind }}: {{ l.title }} {{ l.url }}{% endfor %}")
    text = communications.render_template(template, incident)
    assert text == f"Join https://meet.example.com/{incident.number} | Ticket: Ticket OPS-1 https://tickets.example.com/OPS-1"
    assert outgoing.body_lines(incident) == [f"War room: https://meet.example.com/{incident.number}"]
    assert outgoing.title(incident, "x") == "x"  # not a drill


def test_the_incident_page_shows_its_times_in_the_viewers_zone(responder):
    """The page's stamps name the viewer's zone (the portal's filters), not the server's."""
    incident = declare(by=responder)
    services.incident_add_note(incident=incident, body="Looking", by=responder)
    client = _client(responder)
    client.cookies["tz"] = "Asia/Kolkata"
    html = client.get(incident.get_absolute_url()).content.decode()
    local = timezone.localtime(incident.declared_at, zoneinfo.ZoneInfo("Asia/Kolkata"))
    assert f"<dt>Declared</dt><dd>{local:%Y-%m-%d %H:%M} IST" in html
    assert f"{local:%Y-%m-%d %H:%M:%S} IST</time>" in html  # the timeline, to the second
    assert " UTC</dd>" not in html
