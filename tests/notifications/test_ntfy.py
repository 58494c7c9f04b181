"""ntfy push: the JSON ntfy's publish API takes, sent to a local server standing for ntfy, and
its action buttons followed the way the ntfy app does (a POST with no session)."""

import pytest
from django.test import Client
from django.urls import reverse

from delivery import outbox
from delivery.channels import InvalidTarget
from delivery.channels.ntfy import NtfyChannel
from delivery.models import DeliveryStatus
from incidents.exceptions import InvalidInput
from oncall.notifications import services
from oncall.notifications.ack import action_token
from tests.incidents.factories import declare

from .factories import page_message

pytestmark = pytest.mark.django_db


def ntfy_method(user, receiver, topic="oncall-responder", **kw):
    return services.contact_method_create(user=user, kind="ntfy", target=f"{receiver.url}/{topic}", **kw)


def send(rows):
    for row in rows:
        outbox.deliver(row.pk)
        row.refresh_from_db()
    return rows


def test_page_is_ntfy_json_urgent_with_tags_click_and_signed_actions(receiver, responder, settings):
    settings.SITE_URL = "https://portal.example.com"
    incident = declare(by=responder, title="Checkout is down")
    ntfy_method(responder, receiver, token="tk_secret123")
    [row] = send(services.notify_user(user=responder, message=page_message(incident), dedup_key="k"))
    assert row.status == DeliveryStatus.SENT

    [request] = receiver.wait_for(1)
    assert request.path == "/"  # JSON publishing goes to the server's root, the topic in the body
    assert request.headers["authorization"] == "Bearer tk_secret123"
    assert request.headers["content-type"] == "application/json"
    doc = request.json()
    actions = doc.pop("actions")
    assert doc == {
        "topic": "oncall-responder",
        "title": f"[P1] {incident.number} Checkout is down",
        "message": "You are on call for this incident.",
        "priority": 5,
        "tags": ["rotating_light", "P1"],
        "click": f"http://testserver{incident.get_absolute_url()}",
    }
    assert [(a["action"], a["label"], a["method"], a["clear"]) for a in actions] == [
        ("http", "Acknowledge", "POST", True), ("http", "Resolve", "POST", True)]
    assert all(a["url"].startswith("https://portal.example.com/notifications/act/") for a in actions)


def test_pressing_acknowledge_acknowledges_as_the_person_without_login(receiver, responder, responder2):
    incident = declare(by=responder)
    ntfy_method(responder2, receiver)
    send(services.notify_user(user=responder2, message=page_message(incident), dedup_key="k"))
    [ack, resolve] = receiver.wait_for(1)[0].json()["actions"]
    phone = Client(enforce_csrf_checks=True)  # the ntfy app: no session, no CSRF cookie

    path = ack["url"].split("127.0.0.1:8000", 1)[-1]
    assert phone.get(path).status_code == 200
    incident.refresh_from_db()
    assert incident.acknowledged_at is None, "a GET changes nothing"
    answer = phone.post(path)
    assert answer.status_code == 200 and "acknowledged as Responder2" in answer.text
    incident.refresh_from_db()
    assert incident.acknowledged_by == responder2
    assert incident.timeline.filter(kind="acknowledged", actor=responder2, data__via="push notification").exists()
    assert phone.post(path).status_code == 409  # already acknowledged: said, not a 500

    done = phone.post(resolve["url"].split("127.0.0.1:8000", 1)[-1])
    assert done.status_code == 200
    incident.refresh_from_db()
    assert incident.status == "resolved" and incident.timeline.filter(kind="resolved", actor=responder2).exists()


def test_forged_or_foreign_action_tokens_do_nothing(responder, viewer):
    incident = declare(by=responder)
    phone = Client(enforce_csrf_checks=True)
    assert phone.post("/notifications/act/forged/").status_code == 400
    ack_token = action_token(incident_id=incident.pk, user_id=responder.pk, action="acknowledge")
    assert phone.post(f"/notifications/act/{ack_token[:-2]}xx/").status_code == 400
    bogus = action_token(incident_id=incident.pk, user_id=responder.pk, action="delete")
    assert phone.post(reverse("notifications:action", kwargs={"token": bogus})).status_code == 400
    viewer_token = action_token(incident_id=incident.pk, user_id=viewer.pk, action="acknowledge")
    assert phone.post(reverse("notifications:action", kwargs={"token": viewer_token})).status_code == 403
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


def test_test_send_has_default_priority_and_no_actions(receiver, responder):
    method = ntfy_method(responder, receiver)
    row = services.contact_method_send_test(method=method, by=responder)
    send([row])
    doc = receiver.wait_for(1)[0].json()
    assert doc["priority"] == 3 and "actions" not in doc and doc["topic"] == "oncall-responder"
    assert "authorization" not in receiver.requests[0].headers


def test_topic_names_and_urls_are_checked(settings):
    settings.NTFY_DEFAULT_SERVER = "https://ntfy.example.org"
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(InvalidTarget):
        NtfyChannel.clean_target("http://127.0.0.1:8080/topic")  # the outgoing-request guard
    with pytest.raises(InvalidTarget):
        NtfyChannel.clean_target("https://ntfy.example.org/bad topic!")
    with pytest.raises(InvalidTarget):
        NtfyChannel.clean_target("https://ntfy.example.org/")


def test_bad_token_is_refused(responder, receiver):
    with pytest.raises(InvalidInput):
        ntfy_method(responder, receiver, token="tk with spaces")
