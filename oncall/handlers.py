"""Reactions to incident events (run by the core's outbox relay in the worker, after commit).
Each is idempotent: a redelivered event changes nothing twice."""

import logging

from django.utils import timezone

from delivery.outbox import send_inline

from .models import EscalationState, EscalationStep, StepStatus
from .services import escalation as engine

logger = logging.getLogger(__name__)
KINDS = {"declared", "acknowledged", "status_changed", "mitigated", "resolved", "severity_changed", "reopened", "type_changed"}


def on_incident_event(event) -> list:
    """Start, restart or re-plan the incident's escalations; the runs it started."""
    incident = event.incident
    if event.kind == "declared":
        return engine.escalations_start_for_incident(incident=incident, trigger_event_id=event.pk)
    if event.kind == "reopened":
        return engine.escalations_restart(incident=incident, trigger_event_id=event.pk)
    if event.kind == "type_changed":
        return engine.escalations_retype(incident=incident, trigger_event_id=event.pk)
    engine.escalations_update(incident=incident, reason=event.kind.replace("_", " "))
    return []


def page(event) -> None:
    """The pager's subscriber: `on_incident_event`, then the steps it made due now (the first
    level of a run it started, a level a raised severity added) fired here, and their pages sent
    from here right after the commit, instead of two more trips through the broker: under an
    alert storm those trips are most of the wait."""
    with send_inline():
        with engine.firing_due_steps_here():
            on_incident_event(event)
        fire_due_now(event.incident)


def fire_due_now(incident) -> None:
    """Fire the incident's steps already due. One that fails here is left to the sweep
    (step_fire is safe to call any number of times, from anywhere)."""
    now = timezone.now()
    due = EscalationStep.objects.filter(escalation__incident=incident, escalation__state=EscalationState.ACTIVE,
                                        status=StepStatus.PENDING, due_at__lte=now)
    for step_id in due.order_by("due_at", "pk").values_list("pk", flat=True):
        try:
            engine.step_fire(step_id=step_id, now=now)
        except Exception:
            logger.exception("escalation step %s failed to fire at once; the sweep retries", step_id)
