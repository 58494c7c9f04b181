"""Postmortem reminders, planned as rows of the one delivery layer (purpose
`postmortem_reminders`; `postmortems.purposes` composes and checks them at send time).

A reminder is an outgoing email due at a time, nothing more: the owner's "due soon" and
"overdue" emails, a reviewer's invitation, an owner's daily digest of overdue action items. So
it is a `delivery.Delivery` row with that due time, not a domain row of its own: the row is the
schedule (DESIGN.md, durable work), its task the fast path within the ETA horizon, the delivery
sweep the safety net, and the claim, backoff and stale-claim lease are the delivery layer's.
Rows are created once by their key (`Delivery.dedup_key`); a plan that changes cancels the rows
it no longer holds, and the same plan again reopens them."""

from datetime import date, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import TextChoices
from django.utils import timezone

from delivery import outbox
from delivery.messages import Message
from delivery.models import Delivery

from .models import ACTION_OPEN_STATUSES, ActionItem, Postmortem

PURPOSE = "postmortem_reminders"


class ReminderKind(TextChoices):
    """`Delivery.kind` of this purpose's rows."""

    DUE_SOON = "due_soon", "Postmortem due soon"
    OVERDUE = "overdue", "Postmortem overdue"
    REVIEW_INVITE = "review_invite", "Review meeting invitation"
    DIGEST = "digest", "Overdue action items digest"
    MEETING_DUE = "meeting_due", "Postmortem meeting not scheduled"


OWNER_KINDS = (ReminderKind.DUE_SOON, ReminderKind.OVERDUE, ReminderKind.MEETING_DUE)


def reminders(**filters):
    """This purpose's rows."""
    return Delivery.objects.filter(purpose=PURPOSE, **filters)


def schedule(*, key: str, kind: str, recipient, due_at: datetime, postmortem: Postmortem | None = None) -> Delivery | None:
    """The reminder's row, made once (by key) and sent after commit (by its task when it is due
    within the ETA horizon, else by the sweep). A cancelled one planned again is reopened."""
    title = ReminderKind(kind).label + (f": {postmortem.incident.number}" if postmortem else "")
    row = outbox.create(
        purpose=PURPOSE, channel="email", target=recipient.email, dedup_key=key, destination_id=recipient.pk, user=recipient,
        kind=kind, due_at=due_at, incident_id=postmortem.incident_id if postmortem else None,
        message=Message(kind=kind, title=title, body=""),
    )
    if row is not None:
        rows = [row]
    elif kind == ReminderKind.DIGEST:  # today's digest exists: sent, or cancelled with nothing to say
        rows = []
    else:
        rows = outbox.reopen(reminders(dedup_key=key, destination_id=recipient.pk), due_at=due_at)
    outbox.enqueue_on_commit(rows)
    return rows[0] if rows else None


def schedule_for_postmortem(postmortem: Postmortem) -> list[Delivery]:
    """Owner reminders: `POSTMORTEM_REMINDER_BEFORE` ahead of the due time, and at the due time
    (overdue); and, where the severity sets a meeting window and no meeting is set, at the end of
    that window (meeting due). Pending reminders for an older owner, due time or window are
    cancelled (a meeting set later cancels its reminder at send time too)."""
    keys = []
    made = []
    if postmortem.owner_id and postmortem.is_editable:
        now = timezone.now()
        stamp = postmortem.due_at.strftime("%Y%m%dT%H%M%S%z")
        before = postmortem.due_at - settings.POSTMORTEM_REMINDER_BEFORE
        plan = [(ReminderKind.OVERDUE, postmortem.due_at)]
        if postmortem.due_at > now:
            plan.insert(0, (ReminderKind.DUE_SOON, max(before, now)))
        meeting_due = postmortem.meeting_due_at
        if meeting_due is not None and postmortem.review_meeting_at is None:
            plan.append((ReminderKind.MEETING_DUE, max(meeting_due, now)))
        for kind, when in plan:
            when_stamp = meeting_due.strftime("%Y%m%dT%H%M%S%z") if kind == ReminderKind.MEETING_DUE else stamp
            key = f"pm:{postmortem.pk}:{kind}:{postmortem.owner_id}:{when_stamp}"
            keys.append(key)
            made.append(schedule(key=key, kind=kind, recipient=postmortem.owner, due_at=when, postmortem=postmortem))
    outbox.cancel(reminders(incident_id=postmortem.incident_id, kind__in=OWNER_KINDS).exclude(dedup_key__in=keys),
                  "Replaced: the postmortem's owner or due time changed.")
    return [row for row in made if row is not None]


def schedule_review_invites(postmortem: Postmortem) -> list[Delivery]:
    """One invitation per reviewer per meeting time, sent now."""
    if postmortem.review_meeting_at is None:
        return []
    stamp = postmortem.review_meeting_at.strftime("%Y%m%dT%H%M%S%z")
    now = timezone.now()
    made = [
        schedule(key=f"pm:{postmortem.pk}:invite:{user.pk}:{stamp}", kind=ReminderKind.REVIEW_INVITE, recipient=user, due_at=now,
                 postmortem=postmortem)
        for user in postmortem.reviewers.filter(is_active=True)
    ]
    return [row for row in made if row is not None]


def cancel_for_postmortem(postmortem: Postmortem) -> int:
    return outbox.cancel(reminders(incident_id=postmortem.incident_id), "The postmortem was published.")


@transaction.atomic
def schedule_digests(today: date | None = None) -> int:
    """Today's digest for every owner of an overdue open action item (one row per owner per day,
    so asking again sends nothing twice). Returns how many owners have one."""
    today = today or timezone.localdate()
    owners = get_user_model().objects.filter(pk__in=ActionItem.objects.filter(
        status__in=ACTION_OPEN_STATUSES, due_date__lt=today, owner__isnull=False, owner__is_active=True).values("owner")).order_by("pk")
    owners = list(owners)
    for owner in owners:
        schedule(key=f"digest:{owner.pk}:{today.isoformat()}", kind=ReminderKind.DIGEST, recipient=owner, due_at=timezone.now())
    return len(owners)
