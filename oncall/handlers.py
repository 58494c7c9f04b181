"""Reactions to incident events (run by the core's outbox relay in the worker, after commit).
Each is idempotent: a redelivered event changes nothing twice."""

import logging

from django.utils import timezone

from .models import EscalationStep, StepStatus
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
    """The pager's subscriber: `on_incident_event`, then the first level of what it started
    fired here and now, instead of one more trip through the broker (the page leaves with the
    run's own commit; under an alert storm that trip is most of the wait)."""
    fire_due_now(on_incident_event(event))


def fire_due_now(escalations) -> None:
    """Fire the steps of `escalations` already due. One that fails here is left to its ETA task
    and the sweep (step_fire is safe to call any number of times, from anywhere)."""
    if not escalations:
        return
    now = timezone.now()
    due = EscalationStep.objects.filter(escalation__in=escalations, status=StepStatus.PENDING, due_at__lte=now)
    for step_id in due.order_by("due_at", "pk").values_list("pk", flat=True):
        try:
            engine.step_fire(step_id=step_id, now=now)
        except Exception:
            logger.exception("escalation step %s failed to fire at once; its task and the sweep retry", step_id)
