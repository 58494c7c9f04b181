"""An incident type's escalation policy runs in addition to the services' (a suspected breach
pages Security and Legal), through the core's events: declared starts it, a type change stops
the old type's run and starts the new one's, planned against the incident as it is now."""

import pytest
from django.contrib.auth.models import Group

from delivery.models import Delivery
from incidents import services as core
from incidents.exceptions import InUse
from incidents.models import IncidentType, TimelineEvent
from oncall import handlers
from oncall.models import Escalation, EscalationStep, StepStatus, TypePolicy
from oncall.notifications.services import contact_method_create
from oncall.services import escalation as engine
from oncall.services.policies import policy_delete

from .conftest import Condition, TargetKind, make_policy

pytestmark = pytest.mark.django_db


def deliver(incident, kind):
    event = TimelineEvent.objects.filter(incident=incident, kind=kind).latest("pk")
    handlers.on_incident_event(event)
    return event


def fire_pending(incident):
    pending = EscalationStep.objects.filter(escalation__incident=incident, status=StepStatus.PENDING)
    return [engine.step_fire(step_id=s.pk) for s in pending]


@pytest.fixture
def breach_policy(people, service):
    """The service pages alice; the security type pages the Security group (bob) and Legal (carol)."""
    for user in people.values():
        contact_method_create(user=user, kind="email", target=user.email)
    security, legal = (Group.objects.get_or_create(name=name)[0] for name in ("Security", "Legal"))  # the seeded breach type's groups
    people["bob"].groups.add(security)
    people["carol"].groups.add(legal)
    make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, people["alice"])])], name="Checkout", service=service)
    policy = make_policy([(0, Condition.NOT_RESOLVED, [(TargetKind.GROUP, security), (TargetKind.GROUP, legal)])],
                         name="Security and Legal")
    TypePolicy.objects.create(incident_type=IncidentType.objects.get(key="security"), policy=policy)
    return policy


def paged(incident):
    return set(Delivery.objects.filter(incident=incident, purpose="paging").values_list("user__username", flat=True))


def test_a_breach_pages_security_and_legal_besides_the_service(breach_policy, service, people):
    incident = core.incident_declare(title="Customer data on a paste site", services=[service],
                                     incident_type=IncidentType.objects.get(key="security"))
    deliver(incident, "declared")
    runs = {e.policy.name: e for e in Escalation.objects.filter(incident=incident)}
    assert set(runs) == {"Checkout", "Security and Legal"}
    assert runs["Security and Legal"].snapshot["type"] == incident.type_id
    fire_pending(incident)
    assert paged(incident) == {"alice", "bob", "carol"}
    # a redelivered event starts nothing twice
    deliver(incident, "declared")
    assert Escalation.objects.filter(incident=incident).count() == 2


def test_an_outage_pages_only_the_service(breach_policy, service):
    incident = core.incident_declare(title="Checkout down", services=[service],
                                     incident_type=IncidentType.objects.get(key="service-outage"))
    deliver(incident, "declared")
    fire_pending(incident)
    assert paged(incident) == {"alice"}


def test_changing_to_breach_starts_its_policy_and_back_stops_it(breach_policy, service, people):
    incident = core.incident_declare(title="Odd logins", severity=None, services=[service],
                                     incident_type=IncidentType.objects.get(key="performance-degradation"))
    deliver(incident, "declared")
    core.incident_acknowledge(incident=incident, by=people["alice"])
    deliver(incident, "acknowledged")
    core.incident_change_type(incident=incident, incident_type=IncidentType.objects.get(key="security"), by=people["alice"])
    deliver(incident, "type_changed")
    run = Escalation.objects.get(incident=incident, policy=breach_policy)
    assert [s.condition for s in run.steps.filter(status=StepStatus.PENDING)] == ["resolved"]  # not-resolved still pages
    fire_pending(incident)
    assert {"bob", "carol"} <= paged(incident)
    core.incident_change_type(incident=incident, incident_type=IncidentType.objects.get(key="service-outage"), by=people["alice"])
    event = deliver(incident, "type_changed")
    run.refresh_from_db()
    assert run.state == "finished"
    assert not Escalation.objects.filter(incident=incident, trigger_event_id=event.pk).exists()


def test_a_policy_a_type_starts_cannot_be_deleted(breach_policy):
    with pytest.raises(InUse, match="Security incident"):
        policy_delete(policy=breach_policy)


def test_a_types_policy_is_set_through_the_policy_api(admin_api, viewer_api, people):
    policy = make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, people["dave"])])], name="Data team")
    url = f"/api/v1/escalation-policies/{policy.pk}/"
    assert viewer_api.patch(url, {"incident_types": ["data-loss"]}, format="json").status_code == 403
    response = admin_api.patch(url, {"incident_types": ["data-loss"]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["incident_types"] == ["data-loss"]
    assert TypePolicy.objects.get(incident_type__key="data-loss").policy == policy
    assert admin_api.patch(url, {"incident_types": []}, format="json").json()["incident_types"] == []
