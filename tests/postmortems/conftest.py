from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import services as incident_services
from incidents.models import Role
from postmortems import services
from tests.incidents.factories import ServiceFactory, declare


@pytest.fixture
def resolved(responder, responder2):
    """resolved('P1') -> an incident declared by `responder`, commanded by `responder2`, resolved by `responder`."""

    def make(severity="P1", commander=True, title="Checkout is down", **kw):
        api = ServiceFactory(name="API", slug="api")
        incident = declare(title=title, severity=severity, by=responder, services=[api], impact="Half of checkouts fail.", **kw)
        if commander:
            incident_services.incident_assign_role(incident=incident, role=Role.COMMANDER, user=responder2, by=responder)
        incident_services.incident_acknowledge(incident=incident, by=responder)
        incident_services.incident_change_status(incident=incident, status="identified", by=responder, message="Bad deploy")
        incident_services.incident_resolve(incident=incident, by=responder, summary="Rolled back", root_cause_tag="bad-deploy")
        incident.refresh_from_db()
        return incident

    return make


@pytest.fixture
def postmortem(resolved, responder):
    """A postmortem opened by hand on a resolved P2 (no automatic one), due in 3 days."""
    incident = resolved("P2")
    return services.postmortem_create(incident=incident, by=responder, due_at=timezone.now() + timedelta(days=3))


def fill_required(pm, by):
    bodies = {s.key: f"Text for {s.title}" for s in pm.sections.all() if s.required and not s.body.strip()}
    return services.postmortem_update(postmortem=pm, by=by, sections=bodies)
