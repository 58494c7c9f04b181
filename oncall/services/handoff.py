"""Handoff reports: when a schedule's on-call person changes, the incoming person gets the
open incidents, the incidents of the last shift and the outgoing person's notes.

Durable like every delayed action: `handoffs_plan` writes one row per upcoming handoff (unique
per schedule and instant, so planning twice is harmless); the ETA task or the sweep sends it
once (lock + compare-and-set on status)."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from delivery.durable import LateTask
from delivery.messages import Message
from incidents.models import Incident
from oncall.notifications.services import notify_user

from .. import selectors
from ..models import Handoff, HandoffNote, HandoffStatus, Schedule

logger = logging.getLogger(__name__)
PLAN_EVERY = timedelta(seconds=35)  # a little more than the beat interval of handoff_sweep_task


# Bound in OncallConfig.ready() to oncall.tasks.handoff_send_task (which imports this module).
handoff_send_later = LateTask("handoff report")


def _enqueue(rows) -> None:
    """After commit: an ETA task for each handoff due within the horizon; later ones are the sweep's."""
    handoff_send_later.enqueue_many([({"handoff_id": h.pk}, h.due_at) for h in rows if h.pk])


@transaction.atomic
def handoffs_plan(now: datetime | None = None, hours: int | None = None) -> int:
    """Write a pending row for every change of on-call person in the next `hours`."""
    now = now or timezone.now()
    end = now + timedelta(hours=hours or settings.ONCALL_HANDOFF_PLAN_HOURS)
    compiled = selectors.compile_schedules(window=(now, end))
    rows = []
    for pk, s in compiled.items():
        previous = s.who_at(now)
        at = now
        for a, b, who in s.shifts(now, end):
            before = previous if a == at else None
            if a > now and who != before:
                rows.append(Handoff(schedule_id=pk, due_at=a, incoming_id=who, outgoing_id=before))
            previous, at = who, b
    if not rows:
        return 0
    Handoff.objects.bulk_create(rows, ignore_conflicts=True)
    # Each row gets its ETA task once, when it enters the ETA horizon (planning runs every
    # PLAN_EVERY seconds); anything missed is the sweep's.
    horizon = now + timedelta(seconds=settings.DURABLE_ETA_HORIZON_SECONDS)
    _enqueue(list(Handoff.objects.filter(status=HandoffStatus.PENDING, due_at__gt=max(now, horizon - PLAN_EVERY),
                                         due_at__lte=horizon)))
    return len(rows)


def build_report(schedule: Schedule, handoff: Handoff, notes) -> str:
    previous = (Handoff.objects.filter(schedule=schedule, due_at__lt=handoff.due_at, status=HandoffStatus.SENT)
                .order_by("-due_at").values_list("due_at", flat=True).first()) or handoff.due_at - timedelta(days=7)
    incidents = Incident.objects.visible_to(handoff.incoming)  # restricted ones only to those who may see them
    open_incidents = list(incidents.open().select_related("severity").order_by("severity__rank", "declared_at")[:50])
    during = list(incidents.filter(declared_at__gte=previous, declared_at__lt=handoff.due_at)
                  .select_related("severity").order_by("declared_at")[:50])
    outgoing = handoff.outgoing.get_full_name() or handoff.outgoing.username if handoff.outgoing else "nobody"
    lines = [f"You are now on call for {schedule.name} (taking over from {outgoing}).", "", "Open incidents:"]
    lines += [f"  - {i.number} [{i.severity.key}] {i.title} ({i.get_status_display()})" for i in open_incidents] or ["  none"]
    lines += ["", f"Incidents during the last shift (since {timezone.localtime(previous):%a %d %b %H:%M}):"]
    lines += [f"  - {i.number} [{i.severity.key}] {i.title} ({i.get_status_display()})" for i in during] or ["  none"]
    lines += ["", "Notes from the outgoing person:"]
    lines += [f"  {n.author.get_full_name() or n.author.username}: {n.body}" for n in notes] or ["  none"]
    return "\n".join(lines)


def handoff_send(*, handoff_id: int, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    with transaction.atomic():
        handoff = (Handoff.objects.select_for_update(skip_locked=True, of=("self",)).select_related("schedule", "incoming", "outgoing")
                   .filter(pk=handoff_id, status=HandoffStatus.PENDING, due_at__lte=now).first())
        if handoff is None:
            return False
        schedule = handoff.schedule
        actual = selectors.oncall_at([schedule.pk], handoff.due_at).get(schedule.pk)
        if actual != handoff.incoming_id or handoff.incoming is None:
            Handoff.objects.filter(pk=handoff.pk, status=HandoffStatus.PENDING).update(status=HandoffStatus.CANCELLED)
            return False  # the rules changed since it was planned
        notes = list(HandoffNote.objects.filter(schedule=schedule, handoff__isnull=True).select_related("author").order_by("created_at"))
        report = build_report(schedule, handoff, notes)
        claimed = Handoff.objects.filter(pk=handoff.pk, status=HandoffStatus.PENDING).update(
            status=HandoffStatus.SENT, sent_at=now, report=report)
        if not claimed:
            return False
        HandoffNote.objects.filter(pk__in=[n.pk for n in notes]).update(handoff=handoff)
        url = settings.SITE_URL + reverse("oncall:schedule", args=[schedule.pk])
        notify_user(user=handoff.incoming, dedup_key=f"handoff:{handoff.pk}",
                    message=Message(kind="oncall.handoff", title=f"Handoff: you are on call for {schedule.name}", body=report, url=url))
        return True


def sweep(now: datetime | None = None, limit: int = 200) -> int:
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.ONCALL_SWEEP_GRACE_SECONDS)
    ids = list(Handoff.objects.filter(status=HandoffStatus.PENDING, due_at__lte=cutoff).order_by("due_at").values_list("pk", flat=True)[:limit])
    sent = 0
    for pk in ids:
        try:
            sent += handoff_send(handoff_id=pk)
        except Exception:
            logger.exception("handoff %s failed; the next sweep retries", pk)
    return sent
