"""Panels the core pages show (registered in OncallConfig.ready)."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident

from . import forms, selectors
from .models import Escalation, EscalationState, EscalationStep, Schedule, StepStatus
from .services import escalation as engine

PAGE_PERMISSION = "oncall.page_manually"


def dashboard_gaps(request, **_kw):
    gaps = {pk: g for pk, g in selectors.schedule_gaps().items() if g}
    if not gaps:
        return None
    schedules = Schedule.objects.in_bulk(list(gaps))
    return {"banner": True, "items": [(schedules[pk], g[0]) for pk, g in gaps.items()]}


def dashboard_policy_problems(request, **_kw):
    """Policies that start some service's or integration's incidents and would page nobody at
    some level right now."""
    from django.db.models import Q

    from .models import EscalationPolicy

    in_use = list(EscalationPolicy.objects.filter(Q(service_links__isnull=False) | Q(integration_links__isnull=False))
                  .distinct().prefetch_related(*selectors.POLICY_TARGETS))
    problems = selectors.policy_problems(in_use)
    items = [(policy, problems[policy.pk]) for policy in in_use if problems[policy.pk]]
    return {"banner": True, "items": items} if items else None


def dashboard_now(request, **_kw):
    rows = selectors.oncall_now_rows()
    return {"rows": rows[:8], "more": max(len(rows) - 8, 0)} if rows else None


def target_labels(targets) -> str:
    """A step's targets as the panel names them; inform-only ones marked."""
    return ", ".join(t["label"] + (" (informed)" if t.get("inform") else "") for t in targets)


def _describe_step(step, now):
    labels = target_labels(step.targets)
    wait = max(int((step.due_at - now).total_seconds()), 0)
    if wait >= 2 * 3600:  # a low-urgency clock waiting for business hours
        hours, minutes = divmod((wait + 59) // 60, 60)
        when = f"in {hours} h" + (f" {minutes} min" if minutes else "")
    elif wait >= 120:
        when = f"in {(wait + 59) // 60} min"
    elif wait > 0:
        when = f"in {wait} s"
    else:
        when = "now"
    return {"level": step.level + 1, "round": step.round + 1, "labels": labels, "when": when, "due_at": step.due_at,
            "condition": step.get_condition_display().lower()}


TRIGGERS = ("declared", "reopened")


def _starting(incident):
    """Policies the worker is about to start for the incident's latest declaration or reopening
    (the event is written; its run is not yet): (the trigger or None, policy names, their steps)."""
    trigger = incident.timeline.filter(kind__in=TRIGGERS).order_by("-pk").first()
    if trigger is None or Escalation.objects.filter(incident=incident, trigger_event_id=trigger.pk).exists():
        return None, [], []
    names, steps = [], []
    for policy, _for_type in engine.policies_to_start(incident):
        names.append(policy.name)
        steps += engine.escalation_preview(incident=incident, policy=policy, started_at=trigger.occurred_at,
                                           restart=trigger.kind == "reopened")
    return trigger, names, steps


def incident_escalation(request, incident, **_kw):
    """What will happen next, computed from the incident's state now: a step the worker has not
    cancelled yet but the state has made moot (acknowledged, resolved, a severity its level no
    longer covers) is left out, and a policy the worker has not started yet is shown as starting."""
    now = timezone.now()
    incident = Incident.objects.select_related("severity").get(pk=incident.pk)  # fresh: the page may poll
    escalations = list(Escalation.objects.filter(incident=incident).select_related("policy").order_by("-started_at", "-pk")[:5])
    steps = []
    if escalations:
        steps = list(EscalationStep.objects.filter(escalation__in=escalations).select_related("escalation")
                     .order_by("due_at", "level", "slot"))
    fired = [s for s in steps if s.status == StepStatus.FIRED]
    pending = [s for s in steps if s.status == StepStatus.PENDING and engine.step_still_due(s, incident)]
    trigger, starting, preview = _starting(incident) if incident.is_open else (None, [], [])
    if trigger is not None and trigger.kind == "reopened":  # the worker is about to replace the old runs
        pending = [s for s in pending if s.escalation.started_at >= trigger.occurred_at]
    upcoming = sorted(pending + preview, key=lambda s: (s.due_at, s.level, s.slot)) if incident.is_open else []
    people = selectors.users_by_id(uid for s in fired for uid in s.notified)
    history = [{"step": s, "level": s.level + 1, "names": [people[u] for u in s.notified if u in people],
                "labels": target_labels(s.targets)} for s in fired]
    active = [e for e in escalations if e.state == EscalationState.ACTIVE]
    can_page = request.user.has_perm(PAGE_PERMISSION) and incident.is_open
    return {
        "incident": incident,
        "escalations": escalations,
        "active": active,
        "policies": starting or sorted({e.policy.name for e in active if e.policy}),
        "starting": bool(starting),
        "low_urgency": engine.is_low_urgency(incident),
        "history": history[-8:],
        "next": [_describe_step(s, now) for s in upcoming[:3]],
        "page_form": forms.ManualPageForm() if can_page else None,
        "soon": now + timedelta(minutes=1),
        "refresh_url": reverse("oncall:escalation_panel", args=[incident.number]),
    }
