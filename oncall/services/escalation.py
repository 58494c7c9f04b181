"""The escalation engine.

Starting a policy for an incident freezes it into a snapshot and writes one step row per
(level, round, slot) with its due time. A step fires at most once: the ETA task and the sweep
both call `step_fire`, which locks the row (skipping it when another worker holds it) and
moves it pending -> fired by compare-and-set, in the same transaction as the notification rows.
A worker killed mid-way rolls the whole thing back and the sweep fires the step later.

Conditions are re-read when a step fires (an acknowledged incident does not page the
acknowledge ladder), and the incident's events cancel or add steps promptly for the page.
"""

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from delivery import durable
from delivery.durable import LateTask
from delivery.messages import Message
from delivery.outbox import send_inline
from incidents import outgoing
from incidents.exceptions import InvalidInput, InvalidTransition
from incidents.models import Incident, IncidentStatus
from incidents.models.catalog import Urgency
from incidents.services import timeline_record
from oncall.notifications.services import notify_user

from .. import selectors, workhours
from ..models import (
    Condition,
    Escalation,
    EscalationPolicy,
    EscalationState,
    EscalationStep,
    IntegrationPolicy,
    Layer,
    LevelMode,
    Schedule,
    ServicePolicy,
    StepStatus,
    TargetKind,
    TypePolicy,
)

logger = logging.getLogger(__name__)
User = get_user_model()


# --- snapshot ---------------------------------------------------------------------------


def _target_snapshot(target) -> dict:
    ref = {TargetKind.SCHEDULE: target.schedule, TargetKind.LAYER: target.layer, TargetKind.USER: target.user,
           TargetKind.GROUP: target.group}[target.kind]
    label = ref.get_full_name() or ref.get_username() if target.kind == TargetKind.USER else str(ref)
    snap = {"kind": target.kind, "id": ref.pk, "label": label}
    if target.inform:
        snap["inform"] = True
    return snap


def policy_snapshot(policy: EscalationPolicy) -> dict:
    levels = []
    for level in policy.levels.prefetch_related("severities", "targets__schedule", "targets__layer__schedule",
                                                 "targets__user", "targets__group").order_by("position", "pk"):
        targets = [_target_snapshot(t) for t in level.targets.all()]
        if level.mode == LevelMode.ROUND_ROBIN:  # one slot per person: expand groups now
            expanded = []
            for t in targets:
                if t["kind"] == TargetKind.GROUP:
                    members = User.objects.filter(groups__pk=t["id"], is_active=True).order_by("username")
                    expanded.extend({"kind": TargetKind.USER, "id": u.pk, "label": u.get_full_name() or u.username,
                                     **({"inform": True} if t.get("inform") else {})} for u in members)
                else:
                    expanded.append(t)
            targets = expanded
        levels.append({
            "condition": level.condition, "delay": level.delay_seconds, "mode": level.mode,
            "round_robin": level.round_robin_seconds, "severities": sorted(s.key for s in level.severities.all()),
            "targets": targets,
        })
    return {"policy": policy.pk, "name": policy.name, "repeat": policy.repeat,
            "repeat_after": policy.repeat_after_seconds, "levels": levels}


def _level_length(level: dict) -> int:
    if level["mode"] == LevelMode.ROUND_ROBIN:
        return level["delay"] + max(len(level["targets"]) - 1, 0) * level["round_robin"]
    return level["delay"]


def _cycle(snapshot: dict) -> int:
    return max((_level_length(lv) for lv in snapshot["levels"]), default=0) + snapshot.get("repeat_after", 0)


# --- conditions -------------------------------------------------------------------------


def condition_met(condition: str, incident: Incident, since: datetime | None = None) -> bool:
    """True when the thing the level waits for has happened, so the step must not page.

    `since` (a run restarted by a reopen): a mitigation from before the reopen does not count.
    A reopen clears the current acknowledgement, so acknowledging again stops the restarted
    ladder, as does being worked on again (identified, monitoring)."""
    if incident.status == IncidentStatus.RESOLVED:
        return True
    if condition == Condition.NOT_ACKNOWLEDGED:
        if since is not None:
            return incident.status in (IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING) or incident.is_acknowledged
        return incident.is_acknowledged
    if condition == Condition.NOT_MITIGATED:
        if since is not None:
            return incident.status == IncidentStatus.MONITORING or bool(incident.mitigated_at and incident.mitigated_at >= since)
        return incident.mitigated_at is not None
    return False


def _since(escalation: Escalation) -> datetime | None:
    return escalation.started_at if escalation.snapshot.get("restart") else None


def _applies(level: dict, incident: Incident) -> bool:
    return not level["severities"] or incident.severity.key in level["severities"]


# --- planning ---------------------------------------------------------------------------


# Bound in OncallConfig.ready() to oncall.tasks.step_fire_task (which imports this module).
step_fire_later = LateTask("escalation step")


# Set while the caller fires the steps due now itself (the pager's subscriber: oncall.handlers
# .page): those get no ETA task of their own; one that fails there is the sweep's.
_fired_by_caller: ContextVar[bool] = ContextVar("fired_by_caller", default=False)


@contextmanager
def firing_due_steps_here():
    token = _fired_by_caller.set(True)
    try:
        yield
    finally:
        _fired_by_caller.reset(token)


def _enqueue(steps) -> None:
    """After commit: an ETA task for each step due within the horizon; later ones are the sweep's."""
    if _fired_by_caller.get():
        now = timezone.now()
        steps = [s for s in steps if s.due_at > now]
    step_fire_later.enqueue_many([({"step_id": s.pk}, s.due_at) for s in steps])


def is_low_urgency(incident: Incident) -> bool:
    return incident.severity.urgency == Urgency.LOW


def _due(started_at: datetime, offset: int, low: bool, hours) -> datetime:
    """A step `offset` seconds into the run: on the wall clock, or (low urgency) counting business
    hours only, so a low-urgency acknowledge clock does not run out overnight."""
    if low and offset > 0:
        return hours.add(started_at, offset)
    return started_at + timedelta(seconds=offset)


def _wanted(snapshot: dict, started_at: datetime, incident: Incident, since: datetime | None):
    """The steps a run of `snapshot` started at `started_at` wants for the incident as it is now:
    ((level, round, slot), condition, targets, due) for each level that applies and still waits.
    A low-urgency incident's delays count business hours (`workhours.business_hours`)."""
    cycle = _cycle(snapshot)
    low = is_low_urgency(incident)
    hours = workhours.business_hours() if low else None
    for rnd in range(snapshot.get("repeat", 0) + 1):
        for n, level in enumerate(snapshot["levels"]):
            if not _applies(level, incident) or condition_met(level["condition"], incident, since) or not level["targets"]:
                continue
            robin = level["mode"] == LevelMode.ROUND_ROBIN
            for slot in (range(len(level["targets"])) if robin else [0]):
                targets = [level["targets"][slot]] if robin else level["targets"]
                due = _due(started_at, rnd * cycle + level["delay"] + slot * level["round_robin"] * robin, low, hours)
                yield (n, rnd, slot), level["condition"], targets, due


def _plan(escalation: Escalation, incident: Incident, now: datetime) -> list[EscalationStep]:
    """Make the pending steps match the snapshot, the incident's severity and its state:
    create the missing ones (due now if their time has passed), cancel the ones that no
    longer apply. Idempotent."""
    existing = {(s.level, s.round, s.slot): s for s in escalation.steps.all()}
    wanted, created = set(), []
    for key, condition, targets, due in _wanted(escalation.snapshot, escalation.started_at, incident, _since(escalation)):
        wanted.add(key)
        step = existing.get(key)
        if step is None:
            n, rnd, slot = key
            step = EscalationStep(escalation=escalation, level=n, round=rnd, slot=slot, condition=condition,
                                  targets=targets, due_at=max(due, now))
            created.append(step)
        elif step.status == StepStatus.CANCELLED and step.note == "severity":
            EscalationStep.objects.filter(pk=step.pk, status=StepStatus.CANCELLED).update(
                status=StepStatus.PENDING, due_at=max(due, now), note="")
            step.due_at = max(due, now)
            created.append(step)
    stale = [s.pk for key, s in existing.items() if key not in wanted and s.status == StepStatus.PENDING]
    if stale:
        EscalationStep.objects.filter(pk__in=stale, status=StepStatus.PENDING).update(status=StepStatus.CANCELLED, note="severity")
    new = [s for s in created if s.pk is None]
    if new:
        EscalationStep.objects.bulk_create(new, ignore_conflicts=True)
        # ignore_conflicts leaves pks unset on some databases: read them back.
        by_key = {(s.level, s.round, s.slot): s for s in escalation.steps.filter(status=StepStatus.PENDING)}
        created = [by_key[(s.level, s.round, s.slot)] for s in created if (s.level, s.round, s.slot) in by_key]
    _enqueue(created)
    return created


@transaction.atomic
def escalation_start(*, incident: Incident, policy: EscalationPolicy, trigger_event_id: int | None = None,
                     now: datetime | None = None, restart: bool = False, for_type: int | None = None) -> Escalation | None:
    """Start `policy` for `incident`. Once per (trigger event, policy): a redelivered event
    starts nothing new. `for_type`: started because the incident is of that type."""
    now = now or timezone.now()
    incident = Incident.objects.select_related("severity").get(pk=incident.pk)
    if trigger_event_id is not None and Escalation.objects.filter(trigger_event_id=trigger_event_id, policy=policy).exists():
        return None
    snapshot = policy_snapshot(policy)
    snapshot["restart"] = restart
    if for_type is not None:
        snapshot["type"] = for_type
    escalation = Escalation.objects.create(incident=incident, policy=policy, trigger_event_id=trigger_event_id,
                                           snapshot=snapshot, started_at=now)
    steps = _plan(escalation, incident, now)
    timeline_record(incident=incident, kind="escalation.started", actor_label="On-call",
                    message=f"Escalation policy “{policy.name}” started ({len(steps)} step{'s' if len(steps) != 1 else ''} planned)",
                    data={"escalation": escalation.pk, "policy": policy.pk}, dispatch=False)
    if not steps:
        _finish(escalation, now)
    return escalation


def policies_for_incident(incident: Incident) -> list[EscalationPolicy]:
    """The opening integration's override when it has one, else the policies of the services."""
    declared = incident.timeline.filter(kind="declared").values_list("data", flat=True).first() or {}
    if declared.get("integration"):
        override = IntegrationPolicy.objects.filter(integration_id=declared["integration"]).select_related("policy").first()
        if override:
            return [override.policy]
    ids = ServicePolicy.objects.filter(service__in=incident.services.all()).values_list("policy_id", flat=True)
    return list(EscalationPolicy.objects.filter(pk__in=set(ids)).order_by("pk"))


def type_policy_for(incident: Incident) -> EscalationPolicy | None:
    """The policy the incident's type starts in addition to the others (a suspected breach
    pages Security and Legal), or None."""
    if incident.type_id is None:
        return None
    link = TypePolicy.objects.filter(incident_type_id=incident.type_id).select_related("policy").first()
    return link.policy if link else None


def policies_to_start(incident: Incident) -> list[tuple[EscalationPolicy, int | None]]:
    """What a declaration (or a reopen) starts: the services' policies (or the integration's
    override), then the type's, each once: (policy, the type it runs for or None)."""
    policies = [(policy, None) for policy in policies_for_incident(incident)]
    extra = type_policy_for(incident)
    if extra is not None and extra not in [p for p, _ in policies]:
        policies.append((extra, incident.type_id))
    return policies


def escalations_start_for_incident(*, incident: Incident, trigger_event_id: int | None = None,
                                   restart: bool = False) -> list[Escalation]:
    started = []
    for policy, for_type in policies_to_start(incident):
        esc = escalation_start(incident=incident, policy=policy, trigger_event_id=trigger_event_id, restart=restart,
                               for_type=for_type)
        if esc:
            started.append(esc)
    return started


@transaction.atomic
def escalations_retype(*, incident: Incident, trigger_event_id: int | None = None) -> list[Escalation]:
    """The incident's type changed: stop what the old type's policy has left, start the new
    type's policy (it plans against the incident as it is now, like a severity change: an
    acknowledged incident starts no acknowledge ladder), and re-plan the rest."""
    now = timezone.now()
    incident = Incident.objects.select_related("severity", "type").get(pk=incident.pk)
    for escalation in Escalation.objects.select_for_update().filter(incident=incident, state=EscalationState.ACTIVE,
                                                                    snapshot__has_key="type"):
        if escalation.snapshot["type"] == incident.type_id:
            continue
        stopped = escalation.steps.filter(status=StepStatus.PENDING).update(status=StepStatus.CANCELLED, note="type changed")
        _finish(escalation, now)
        if stopped:
            timeline_record(incident=incident, kind="escalation.stopped", actor_label="On-call",
                            message=f"Escalation: {stopped} pending step{'s' if stopped != 1 else ''} stopped (type changed)",
                            data={"escalation": escalation.pk, "cancelled": stopped, "reason": "type changed"}, dispatch=False)
    started = []
    extra = type_policy_for(incident)
    running = Escalation.objects.filter(incident=incident, state=EscalationState.ACTIVE, policy=extra).exists()
    if extra is not None and incident.is_open and not running and extra not in policies_for_incident(incident):
        esc = escalation_start(incident=incident, policy=extra, trigger_event_id=trigger_event_id, for_type=incident.type_id)
        if esc:
            started.append(esc)
    escalations_update(incident=incident, reason="type changed")
    return started


def _finish(escalation: Escalation, now: datetime) -> None:
    Escalation.objects.filter(pk=escalation.pk, state=EscalationState.ACTIVE).update(state=EscalationState.FINISHED, finished_at=now)


def _finish_if_done(escalation: Escalation, now: datetime) -> None:
    """Finish the run when no step is pending (one conditional UPDATE)."""
    pending = EscalationStep.objects.filter(escalation=OuterRef("pk"), status=StepStatus.PENDING)
    Escalation.objects.filter(pk=escalation.pk, state=EscalationState.ACTIVE).filter(~Exists(pending)).update(
        state=EscalationState.FINISHED, finished_at=now)


@transaction.atomic
def escalations_update(*, incident: Incident, reason: str = "") -> int:
    """Re-read the incident and make every active escalation's pending steps match it:
    acknowledged / mitigated / resolved stop their ladders, a severity change adds or drops
    levels. Returns how many steps were cancelled."""
    now = timezone.now()
    incident = Incident.objects.select_related("severity").get(pk=incident.pk)
    cancelled = 0
    for escalation in Escalation.objects.select_for_update().filter(incident=incident, state=EscalationState.ACTIVE):
        before = escalation.steps.filter(status=StepStatus.PENDING).count()
        if escalation.manual:
            stop = [s.pk for s in escalation.steps.filter(status=StepStatus.PENDING) if condition_met(s.condition, incident, _since(escalation))]
            EscalationStep.objects.filter(pk__in=stop, status=StepStatus.PENDING).update(status=StepStatus.CANCELLED, note=reason)
        else:
            _plan(escalation, incident, now)
            met = [s.pk for s in escalation.steps.filter(status=StepStatus.PENDING) if condition_met(s.condition, incident, _since(escalation))]
            EscalationStep.objects.filter(pk__in=met, status=StepStatus.PENDING).update(status=StepStatus.CANCELLED, note=reason)
        after = escalation.steps.filter(status=StepStatus.PENDING).count()
        if after < before:
            cancelled += before - after
            timeline_record(incident=incident, kind="escalation.stopped", actor_label="On-call",
                            message=f"Escalation: {before - after} pending step{'s' if before - after != 1 else ''} stopped ({reason or 'updated'})",
                            data={"escalation": escalation.pk, "cancelled": before - after, "reason": reason}, dispatch=False)
        _finish_if_done(escalation, now)
    return cancelled


@transaction.atomic
def escalations_restart(*, incident: Incident, trigger_event_id: int | None = None) -> list[Escalation]:
    """A reopened incident: stop what is left of the old runs and start the policies afresh."""
    now = timezone.now()
    for escalation in Escalation.objects.select_for_update().filter(incident=incident, state=EscalationState.ACTIVE):
        escalation.steps.filter(status=StepStatus.PENDING).update(status=StepStatus.CANCELLED, note="reopened")
        _finish(escalation, now)
    return escalations_start_for_incident(incident=incident, trigger_event_id=trigger_event_id, restart=True)


# --- what will happen (the incident page reads this) -------------------------------------


@transaction.atomic
def escalations_escalate_now(*, incident: Incident, by) -> int:
    """Someone paged asks to escalate now (a keypress on a page call): the next pending step of
    each running escalation of `incident` is due now instead of at its time. Returns how many."""
    now = timezone.now()
    moved = []
    for escalation in Escalation.objects.filter(incident=incident, state=EscalationState.ACTIVE):
        step = escalation.steps.filter(status=StepStatus.PENDING, due_at__gt=now).order_by("due_at", "pk").first()
        if step is None:
            continue
        if EscalationStep.objects.filter(pk=step.pk, status=StepStatus.PENDING, due_at=step.due_at).update(due_at=now):
            step.due_at = now
            moved.append(step)
    _enqueue(moved)
    return len(moved)


def escalation_preview(*, incident: Incident, policy: EscalationPolicy, started_at: datetime,
                       restart: bool = False) -> list[EscalationStep]:
    """The steps `policy` would plan if it started at `started_at`, unsaved: what the page
    shows while the worker has not started the run yet."""
    since = started_at if restart else None
    return [EscalationStep(level=n, round=rnd, slot=slot, condition=condition, targets=targets, due_at=due)
            for (n, rnd, slot), condition, targets, due in _wanted(policy_snapshot(policy), started_at, incident, since)]


def step_still_due(step: EscalationStep, incident: Incident) -> bool:
    """A pending step the incident's state now has not made moot (acknowledged, mitigated,
    resolved, or a severity its level no longer covers), before the worker has caught up."""
    escalation = step.escalation
    if escalation.state != EscalationState.ACTIVE or condition_met(step.condition, incident, _since(escalation)):
        return False
    levels = escalation.snapshot.get("levels") or []
    return escalation.manual or step.level >= len(levels) or _applies(levels[step.level], incident)


# --- firing -----------------------------------------------------------------------------


def resolve_targets(targets: list[dict], at: datetime) -> list:
    """The people a step's targets mean at `at`: schedules and layers by their on-call rules."""
    ids = []
    schedule_ids = [t["id"] for t in targets if t["kind"] == TargetKind.SCHEDULE]
    now_on = selectors.oncall_at(schedule_ids, at) if schedule_ids else {}
    for t in targets:
        if t["kind"] == TargetKind.SCHEDULE:
            ids.append(now_on.get(t["id"]))
        elif t["kind"] == TargetKind.LAYER:
            layer = Layer.objects.filter(pk=t["id"]).first()
            ids.append(selectors.layer_oncall_at(layer, at) if layer else None)
        elif t["kind"] == TargetKind.USER:
            ids.append(t["id"])
        else:
            ids.extend(User.objects.filter(groups__pk=t["id"], is_active=True).order_by("username").values_list("pk", flat=True))
    seen, ordered = set(), []
    for i in ids:
        if i is not None and i not in seen:
            seen.add(i)
            ordered.append(i)
    users = User.objects.filter(is_active=True).in_bulk(ordered)
    return [users[i] for i in ordered if i in users]


def _message(incident: Incident, step: EscalationStep, *, manual_by=None, inform: bool = False) -> Message:
    url = settings.SITE_URL + reverse("incidents:detail", args=[incident.number])
    title = outgoing.title(incident, f"{incident.number} {incident.title}")
    if inform:
        title = f"[{incident.severity.key}] FYI: {title}"
    elif manual_by is not None:
        who = manual_by.get_full_name() or manual_by.get_username()
        title = f"[{incident.severity.key}] {title} — paged by {who}"
    else:
        title = f"[{incident.severity.key}] {title}"
    body = "\n".join([*outgoing.body_lines(incident), ""]) + (
        f"{incident.title}\nSeverity: {incident.severity}\nStatus: {incident.get_status_display()}\n"
        f"Escalation level {step.level + 1}" + (f", round {step.round + 1}" if step.round else "") + "\n"
        + ("For your information: nothing to acknowledge.\n" if inform else "")
        + (f"\n{incident.summary}\n" if incident.summary else ""))
    return Message(kind="incident.inform" if inform else "incident.page", title=title, body=body, url=url,
                   severity=incident.severity.key, incident_id=incident.pk)


def step_fire(*, step_id: int, now: datetime | None = None) -> bool:
    """Fire one step if it is due and still pending; True when it paged someone (or found
    nobody to page). Safe to call any number of times from any number of workers."""
    now = now or timezone.now()
    with transaction.atomic():
        step = (EscalationStep.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("escalation__incident__severity", "escalation__incident__type")
                .filter(pk=step_id, status=StepStatus.PENDING, due_at__lte=now).first())
        if step is None:
            return False  # fired, cancelled, not due yet, gone, or another worker holds it
        escalation = step.escalation
        incident = escalation.incident
        if condition_met(step.condition, incident, _since(escalation)):
            EscalationStep.objects.filter(pk=step.pk, status=StepStatus.PENDING).update(status=StepStatus.CANCELLED, note="condition met")
            _finish_if_done(escalation, now)
            return False
        users = resolve_targets([t for t in step.targets if not t.get("inform")], now)
        informed = [u for u in resolve_targets([t for t in step.targets if t.get("inform")], now) if u not in users]
        claimed = EscalationStep.objects.filter(pk=step.pk, status=StepStatus.PENDING).update(
            status=StepStatus.FIRED, fired_at=now, notified=[u.pk for u in users],
            note="" if users else "nobody on call")
        if not claimed:
            return False
        manual_by = User.objects.filter(pk=escalation.snapshot.get("by")).first() if escalation.manual else None
        message = _message(incident, step, manual_by=manual_by)
        urgency = incident.severity.urgency
        for user in users:
            notify_user(user=user, message=message, dedup_key=f"esc:{escalation.pk}:{step.level}:{step.round}:{user.pk}",
                        urgency=urgency, now=now)
        if informed:
            fyi = _message(incident, step, inform=True)
            for user in informed:
                notify_user(user=user, message=fyi, dedup_key=f"inform:{escalation.pk}:{step.level}:{step.round}:{user.pk}",
                            inform=True, now=now)
            timeline_record(incident=incident, kind="escalation.informed", actor_label="On-call",
                            message=f"Informed {', '.join(_name(u) for u in informed)} (no acknowledgement asked)",
                            data={"escalation": escalation.pk, "step": step.pk, "users": [u.pk for u in informed]},
                            dispatch=False)
        labels = ", ".join(t["label"] for t in step.targets if not t.get("inform")) or "inform-only targets"
        names = ", ".join(_name(u) for u in users)
        level = "Manual page" if escalation.manual else f"Level {step.level + 1}" + (f" (round {step.round + 1})" if step.round else "")
        if urgency == Urgency.LOW and users:
            names += " (low urgency: in their working hours)"
        if users:
            timeline_record(incident=incident, kind="escalation.notified", actor_label="On-call",
                            message=f"{level}: paged {names} ({labels})",
                            data={"escalation": escalation.pk, "step": step.pk, "level": step.level, "round": step.round,
                                  "users": [u.pk for u in users]}, dispatch=False)
        elif not informed:
            timeline_record(incident=incident, kind="escalation.nobody", actor_label="On-call",
                            message=f"{level}: nobody to page for {labels}",
                            data={"escalation": escalation.pk, "step": step.pk, "level": step.level, "round": step.round},
                            dispatch=False)
        _finish_if_done(escalation, now)
        return True


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def sweep(now: datetime | None = None, *, budget: float | None = None) -> int:
    """The safety net: fire, here, every step overdue by more than the grace time
    (delivery.durable.drain: a step the fast path holds is skipped, a failing one waits for the
    next sweep)."""
    grace = timedelta(seconds=settings.ONCALL_SWEEP_GRACE_SECONDS)

    def candidates(tried: set[int]) -> list[int]:
        cutoff = (now or timezone.now()) - grace
        return list(EscalationStep.objects.filter(status=StepStatus.PENDING, due_at__lte=cutoff).exclude(pk__in=tried)
                    .order_by("due_at").values_list("pk", flat=True)[:SWEEP_BATCH])

    def run(pk: int) -> bool:
        try:
            with send_inline():  # the step's pages go out from here too, not behind queued tasks
                return bool(step_fire(step_id=pk, now=timezone.now()))
        except Exception:
            logger.exception("escalation step %s failed to fire; the next sweep retries", pk)
            return False

    fired = durable.drain(candidates, run, budget=budget)
    if fired:
        logger.info("escalation sweep fired %s overdue step(s)", fired)
    return fired


SWEEP_BATCH = 100  # steps a sweep reads at a time


# --- by hand ----------------------------------------------------------------------------


def manual_target(*, user=None, schedule: Schedule | None = None, layer: Layer | None = None, group=None) -> dict:
    """The snapshot of one target paged by hand (any kind an escalation level can page)."""
    chosen = [(k, v) for k, v in ((TargetKind.USER, user), (TargetKind.SCHEDULE, schedule), (TargetKind.LAYER, layer),
                                  (TargetKind.GROUP, group)) if v is not None]
    if len(chosen) != 1:
        raise InvalidInput("Choose a person or a schedule to page.", field="user")
    kind, ref = chosen[0]
    if kind == TargetKind.USER:
        label = ref.get_full_name() or ref.get_username()
    elif kind == TargetKind.LAYER:
        label = str(ref)  # as the policy snapshot names it
    else:
        label = ref.name
    return {"kind": kind, "id": ref.pk, "label": label}


@transaction.atomic
def page_manually(*, incident: Incident, by, user=None, schedule: Schedule | None = None, note: str = "",
                  targets: list[dict] | None = None) -> Escalation:
    """Page a person, or a schedule's on-call person, now; or `targets` (snapshots of any kind
    an escalation level pages: user, schedule, layer, group; `manual_target` makes one).
    Recorded as a one-step escalation, fired by the worker like any step."""
    if targets is None:
        if (user is None) == (schedule is None):
            raise InvalidInput("Choose a person or a schedule to page.", field="user")
        targets = [manual_target(user=user, schedule=schedule)]
    targets = [t for t in targets if isinstance(t, dict) and t.get("kind") in TargetKind.values and isinstance(t.get("id"), int)]
    if not targets:
        raise InvalidInput("Choose a person or a schedule to page.", field="user")
    incident = Incident.objects.select_related("severity").get(pk=incident.pk)
    if incident.status == IncidentStatus.RESOLVED:
        raise InvalidTransition("The incident is resolved; reopen it to page someone.")
    if user is not None and not user.is_active:
        raise InvalidInput(f"{user.get_username()} is not an active user.", field="user")
    now = timezone.now()
    escalation = Escalation.objects.create(incident=incident, policy=None, manual=True, started_at=now,
                                           snapshot={"by": by.pk if by else None, "note": note, "levels": [], "targets": targets})
    step = EscalationStep.objects.create(escalation=escalation, level=0, round=0, slot=0, condition=Condition.NOT_RESOLVED,
                                         targets=targets, due_at=now)
    labels = ", ".join(str(t.get("label") or t["kind"]) for t in targets)
    timeline_record(incident=incident, kind="escalation.manual", by=by,
                    message=f"Paged {labels} by hand" + (f": {note}" if note else ""),
                    data={"escalation": escalation.pk, "target": targets[0], "targets": targets}, dispatch=False)
    _enqueue([step])
    return escalation


@transaction.atomic
def escalate_next_level(*, incident: Incident, by, via: str = "") -> list[dict]:
    """"Escalate now" (a chat button, `/incident page next`): the next pending level of the
    incident's running escalations is paged now, whatever its targets are (people, schedules,
    layers, groups: resolved when the page fires, like any step), by `by`, whether or not the
    incident was acknowledged meanwhile. That step is cancelled, so nobody gets it twice; the
    levels after it keep their times. Returns the targets paged; InvalidTransition when no
    level is left."""
    incident = Incident.objects.select_related("severity").get(pk=incident.pk)
    if incident.status == IncidentStatus.RESOLVED:
        raise InvalidTransition("The incident is resolved; reopen it to page someone.")
    now = timezone.now()
    step = (EscalationStep.objects.select_for_update(skip_locked=True, of=("self",)).select_related("escalation")
            .filter(escalation__incident=incident, escalation__state=EscalationState.ACTIVE, escalation__manual=False,
                    status=StepStatus.PENDING)
            .order_by("due_at", "level", "slot", "pk").first())
    if step is None or not step.targets:
        raise InvalidTransition("No further escalation level to page: page a person or a schedule by hand.")
    who = by.get_full_name() or by.get_username() if by else "someone"
    if not EscalationStep.objects.filter(pk=step.pk, status=StepStatus.PENDING).update(
            status=StepStatus.CANCELLED, note=f"paged early by {who}"[:200]):
        raise InvalidTransition("That level is being paged already.")
    level = f"level {step.level + 1}" + (f", round {step.round + 1}" if step.round else "")
    page_manually(incident=incident, by=by, targets=step.targets, note=f"escalated now ({level})" + (f" from {via}" if via else ""))
    _finish_if_done(step.escalation, now)
    return step.targets


__all__ = ["escalate_next_level", "manual_target", "escalation_preview", "step_still_due", "escalation_start", "escalations_update", "escalations_retype", "escalations_restart", "page_manually", "step_fire", "sweep"]
