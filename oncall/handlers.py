"""Reactions to incident events (run by the core's outbox relay in the worker, after commit).
Each is idempotent: a redelivered event changes nothing twice."""

from .services import escalation as engine

KINDS = {"declared", "acknowledged", "status_changed", "mitigated", "resolved", "severity_changed", "reopened", "type_changed"}


def on_incident_event(event) -> None:
    incident = event.incident
    if event.kind == "declared":
        engine.escalations_start_for_incident(incident=incident, trigger_event_id=event.pk)
    elif event.kind == "reopened":
        engine.escalations_restart(incident=incident, trigger_event_id=event.pk)
    elif event.kind == "type_changed":
        engine.escalations_retype(incident=incident, trigger_event_id=event.pk)
    else:
        engine.escalations_update(incident=incident, reason=event.kind.replace("_", " "))
