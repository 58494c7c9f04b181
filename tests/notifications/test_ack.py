"""The acknowledge link: signed, expiring, names the incident and person, GET changes nothing."""

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from incidents import services as incident_services
from oncall.notifications.ack import SALT, ack_token, ack_url
from tests.incidents.factories import declare

pytestmark = pytest.mark.django_db


def _path(incident, user):
    return reverse("notifications:ack", kwargs={"token": ack_token(incident_id=incident.pk, user_id=user.pk)})


def test_get_shows_incident_and_person_and_changes_nothing(client, responder, responder2):
    incident = declare(by=responder, title="API errors")
    page = client.get(_path(incident, responder2))
    assert page.status_code == 200
    assert "API errors" in page.text and incident.number in page.text
    assert "Acknowledge as Responder2" in page.text
    assert 'id="ack-form" data-autosubmit="true"' in page.text and "js/ack.js" in page.text  # auto-submitted for a person
    assert page["Cache-Control"].startswith("max-age=0")
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


def test_post_acknowledges_as_the_named_person_without_login(client, responder, responder2):
    incident = declare(by=responder)
    page = client.post(_path(incident, responder2))
    assert page.status_code == 200
    assert "acknowledged as Responder2" in page.text
    incident.refresh_from_db()
    assert incident.acknowledged_by == responder2
    again = client.post(_path(incident, responder2))
    assert "Already acknowledged by Responder2" in again.text


def test_link_survives_csrf_checks_when_followed_by_a_browser(responder):
    browser = Client(enforce_csrf_checks=True)
    incident = declare(by=responder)
    path = _path(incident, responder)
    page = browser.get(path)
    token = page.cookies["csrftoken"].value
    done = browser.post(path, {"csrfmiddlewaretoken": page.context["csrf_token"]}, HTTP_COOKIE=f"csrftoken={token}")
    assert done.status_code == 200
    incident.refresh_from_db()
    assert incident.acknowledged_by == responder


def test_expired_link_is_refused(client, responder, settings):
    incident = declare(by=responder)
    path = _path(incident, responder)
    settings.NOTIFY_ACK_LINK_MAX_AGE = -1
    page = client.post(path)
    assert page.status_code == 400 and "expired" in page.text
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


@pytest.mark.parametrize("mutate", ["tamper", "other_salt", "inactive"])
def test_forged_or_stale_links_are_refused(client, responder, responder2, mutate):
    incident = declare(by=responder)
    token = ack_token(incident_id=incident.pk, user_id=responder2.pk)
    if mutate == "tamper":
        token = signing.dumps({"i": incident.pk, "u": responder.pk}, salt=SALT, compress=True)[:-2] + "xx"
    elif mutate == "other_salt":
        token = signing.dumps({"i": incident.pk, "u": responder.pk}, salt="something-else", compress=True)
    else:
        responder2.is_active = False
        responder2.save()
    page = client.post(reverse("notifications:ack", kwargs={"token": token}))
    assert page.status_code == (403 if mutate == "inactive" else 400)  # a deactivated person: forbidden, not malformed
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


def test_resolved_incident_cannot_be_acknowledged(client, responder):
    incident = declare(by=responder)
    incident_services.incident_resolve(incident=incident, by=responder, summary="fixed")
    page = client.post(_path(incident, responder))
    assert "resolved incident cannot be acknowledged" in page.text
    assert "js/ack.js" not in page.text


def test_ack_url_is_absolute():
    assert ack_url(incident_id=1, user_id=2).startswith("http://127.0.0.1:8000/ack/")
