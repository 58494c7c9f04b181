"""Reminder rows: when the owner is reminded, when reviewers are invited, the daily digest.

Every reminder is a `Reminder` row with a due time, created idempotently by its `key`. After
commit, a reminder due within the durable ETA horizon is also handed to Celery with an ETA; the beat
sweep (`reminder_sweep_task`) sends whatever is due and was missed, so a lost message or a dead
worker delays a reminder but never drops it (DESIGN.md, durable work)."""

import logging
from datetime import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .models import Postmortem, Reminder, ReminderKind, ReminderStatus
from .tasks import reminder_send_task

logger = logging.getLogger(__name__)


def schedule(*, key: str, kind: str, recipient, due_at: datetime, postmortem: Postmortem | None = None) -> Reminder:
    """Create the reminder once (by key); enqueue the fast path after commit when it is due soon."""
    reminder, created = Reminder.objects.get_or_create(
        key=key, defaults={"kind": kind, "recipient": recipient, "due_at": due_at, "postmortem": postmortem},
    )
    if not created and reminder.status == ReminderStatus.CANCELLED:
        # The same plan again (owner changed back, say): revive it rather than drop it.
        revived = Reminder.objects.filter(pk=reminder.pk, status=ReminderStatus.CANCELLED).update(
            status=ReminderStatus.PENDING, due_at=due_at, attempts=0, last_error="")
        created = bool(revived)
        reminder.refresh_from_db()
    if created:
        reminder_send_task.enqueue(reminder_id=reminder.pk, eta=due_at)  # after commit, within the horizon
    return reminder

def schedule_for_postmortem(postmortem: Postmortem) -> list[Reminder]:
    """Owner reminders: `POSTMORTEM_REMINDER_BEFORE` ahead of the due time, and at the due time
    (overdue). Pending reminders for an older owner or due time are cancelled."""
    keys = []
    made = []
    if postmortem.owner_id and postmortem.is_editable:
        now = timezone.now()
        stamp = postmortem.due_at.strftime("%Y%m%dT%H%M%S%z")
        before = postmortem.due_at - settings.POSTMORTEM_REMINDER_BEFORE
        plan = [(ReminderKind.OVERDUE, postmortem.due_at)]
        if postmortem.due_at > now:
            plan.insert(0, (ReminderKind.DUE_SOON, max(before, now)))
        for kind, when in plan:
            key = f"pm:{postmortem.pk}:{kind}:{postmortem.owner_id}:{stamp}"
            keys.append(key)
            made.append(schedule(key=key, kind=kind, recipient=postmortem.owner, due_at=when, postmortem=postmortem))
    Reminder.objects.filter(
        postmortem=postmortem, kind__in=[ReminderKind.DUE_SOON, ReminderKind.OVERDUE], status=ReminderStatus.PENDING,
    ).exclude(key__in=keys).update(status=ReminderStatus.CANCELLED)
    return made

def schedule_review_invites(postmortem: Postmortem) -> list[Reminder]:
    """One invitation per reviewer per meeting time, sent now."""
    if postmortem.review_meeting_at is None:
        return []
    stamp = postmortem.review_meeting_at.strftime("%Y%m%dT%H%M%S%z")
    now = timezone.now()
    return [
        schedule(key=f"pm:{postmortem.pk}:invite:{user.pk}:{stamp}", kind=ReminderKind.REVIEW_INVITE, recipient=user, due_at=now,
                 postmortem=postmortem)
        for user in postmortem.reviewers.filter(is_active=True)
    ]

def cancel_for_postmortem(postmortem: Postmortem) -> int:
    return Reminder.objects.filter(postmortem=postmortem, status=ReminderStatus.PENDING).update(status=ReminderStatus.CANCELLED)

def pending_due(now: datetime | None = None):
    now = now or timezone.now()
    return Reminder.objects.filter(Q(status=ReminderStatus.PENDING) & Q(due_at__lte=now))
