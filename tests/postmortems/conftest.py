from datetime import timedelta

import pytest
from django.utils import timezone

from delivery import outbox
from delivery.models import Delivery, DeliveryStatus
from incidents import services as incident_services
from incidents.models import Role
from postmortems import services
from postmortems.reminders import PURPOSE
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


def reminder_rows(**filters):
    """Postmortem reminders: rows of the delivery layer (purpose `postmortem_reminders`)."""
    return Delivery.objects.filter(purpose=PURPOSE, **filters)


def make_due(*rows):
    Delivery.objects.filter(pk__in=[r.pk for r in rows]).update(due_at=timezone.now() - timedelta(seconds=1))


def send_due() -> int:
    """What the delivery layer's sweep does for this purpose: claim and send every due row.
    Returns how many were sent."""
    ids = list(reminder_rows(status=DeliveryStatus.PENDING, due_at__lte=timezone.now()).order_by("pk").values_list("pk", flat=True))
    for pk in ids:
        outbox.deliver(pk)
    return reminder_rows(pk__in=ids, status=DeliveryStatus.SENT).count()
