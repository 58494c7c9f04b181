"""An acknowledge link re-checks, when it is used, that its person may still acknowledge."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from incidents.groups import RESPONDER, VIEWER
from oncall.notifications.ack import ack_token
from tests.incidents.factories import declare

pytestmark = pytest.mark.django_db


def _path(incident, user):
    return reverse("notifications:ack", kwargs={"token": ack_token(incident_id=incident.pk, user_id=user.pk)})


def _demote(user):
    user.groups.remove(Group.objects.get(name=RESPONDER))
    user.groups.add(Group.objects.get(name=VIEWER))


@pytest.mark.parametrize("method", ["get", "post"])
def test_link_of_someone_who_lost_the_responder_role_is_refused(client, responder, responder2, method):
    incident = declare(by=responder)
    path = _path(incident, responder2)
    _demote(responder2)
    page = getattr(client, method)(path)
    assert page.status_code == 403
    assert "no longer allowed to acknowledge" in page.text
    assert 'id="ack-form"' not in page.text
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


def test_link_of_a_deactivated_person_is_refused(client, responder, responder2):
    incident = declare(by=responder)
    path = _path(incident, responder2)
    responder2.is_active = False
    responder2.save(update_fields=["is_active"])
    page = client.post(path)
    assert page.status_code == 403
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


def test_link_still_works_for_a_responder(client, responder, responder2):
    incident = declare(by=responder)
    assert client.post(_path(incident, responder2)).status_code == 200
    incident.refresh_from_db()
    assert incident.acknowledged_by == responder2
