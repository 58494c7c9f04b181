"""Restricted incidents through the API, the status page and the metrics (the page-by-page
no-leak scan is tests/security/test_restricted_no_leak.py)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import override_settings
from django.utils import timezone

from delivery.models import Delivery
from incidents import services
from incidents.exceptions import InvalidInput, InvalidTransition
from incidents.models import Incident, IncidentType
from incidents.statuspage import services as statuspage
from postmortems import reports

from .factories import declare

URL = "/api/v1/incidents/"


@pytest.fixture
def restricted(responder):
    return declare(title="Keys in a public repo", severity="P1", by=responder, restricted=True)


def test_the_api_answers_404_to_outsiders_and_lists_nothing(restricted, viewer_api, responder_api, responder2, api_for):
    assert viewer_api.get(f"{URL}{restricted.number}/").status_code == 404
    assert viewer_api.get(f"{URL}{restricted.number}/timeline/").status_code == 404
    assert viewer_api.get(URL, {"search": "Keys"}).json()["results"] == []
    other_responder = api_for(responder2)
    assert other_responder.post(f"{URL}{restricted.number}/acknowledge/").status_code == 404
    assert other_responder.post("/api/v1/action-items/", {"incident": restricted.number, "title": "x"}, format="json").status_code == 400
    body = responder_api.get(f"{URL}{restricted.number}/").json()  # the declarer holds the commander role
    assert body["restricted"] is True and body["access_groups"] == []


def test_a_group_named_on_it_reads_it_through_the_api(restricted, responder, viewer, viewer_api, responder_api):
    legal = Group.objects.get_or_create(name="Legal")[0]
    viewer.groups.add(legal)
    answer = responder_api.post(f"{URL}{restricted.number}/restriction/", {"restricted": True, "access_groups": ["Legal"]}, format="json")
    assert answer.status_code == 200 and answer.json()["access_groups"] == ["Legal"]
    assert viewer_api.get(f"{URL}{restricted.number}/").status_code == 200
    lifted = responder_api.post(f"{URL}{restricted.number}/restriction/", {"restricted": False}, format="json")
    assert lifted.json()["restricted"] is False and lifted.json()["access_groups"] == []


def test_declaring_through_the_api_with_a_restricted_type_restricts(responder_api):
    answer = responder_api.post(URL, {"title": "Odd admin logins", "type": "security"}, format="json")
    assert answer.status_code == 201
    assert answer.json()["restricted"] is True and sorted(answer.json()["access_groups"]) == ["Legal", "Security"]


def test_changing_to_a_restricted_type_restricts_and_never_lifts(responder):
    incident = declare(title="Strange traffic", severity="P2", by=responder)
    services.incident_change_type(incident=incident, incident_type=IncidentType.objects.get(key="security"), by=responder)
    incident.refresh_from_db()
    assert incident.restricted
    services.incident_change_type(incident=incident, incident_type=IncidentType.objects.get(key="service-outage"), by=responder)
    incident.refresh_from_db()
    assert incident.restricted


def test_a_restricted_incident_never_reaches_the_status_page(restricted, responder):
    with pytest.raises(InvalidInput, match="restricted"):
        statuspage.public_incident_ensure(restricted)
    published = declare(title="Checkout slow", severity="P2", by=responder)
    statuspage.public_incident_ensure(published)
    with pytest.raises(InvalidInput, match="status page"):
        services.incident_set_restriction(incident=published, restricted=True, by=responder)
    with pytest.raises(InvalidTransition):
        services.incident_set_restriction(incident=restricted, restricted=True, by=responder)


def test_metrics_count_it_only_for_those_allowed(restricted, responder, viewer):
    declare(title="Open to all", severity="P2", by=responder)
    today = timezone.localdate()
    rng = reports.DateRange(today - timedelta(days=1), today + timedelta(days=1))
    assert reports.compute(rng, viewer=responder).total == 2
    outsider = reports.compute(rng, viewer=viewer)
    assert outsider.total == 1 and outsider.restricted_not_shown is None  # the default policy says nothing
    with override_settings(METRICS_SHOW_RESTRICTED_COUNT=True):
        assert reports.compute(rng, viewer=viewer).restricted_not_shown == 1
        assert reports.compute(rng, viewer=responder).restricted_not_shown == 0


def test_visible_to_follows_roles_and_paging(restricted, responder2, viewer):
    assert not Incident.objects.visible_to(responder2).filter(pk=restricted.pk).exists()
    services.incident_add_responder(incident=restricted, user=responder2, by=None)
    assert Incident.objects.visible_to(responder2).filter(pk=restricted.pk).exists()
    Delivery.objects.create(purpose="paging", channel="email", target="v***", dedup_key="k", incident=restricted, user=viewer,
                            due_at=timezone.now())
    assert Incident.objects.visible_to(viewer).filter(pk=restricted.pk).exists()
    assert not Incident.objects.visible_to(None).filter(pk=restricted.pk).exists()
