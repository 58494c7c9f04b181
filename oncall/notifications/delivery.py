"""Delivering `Notification` rows: claim (pending -> sending), send, finish (sent / failed /
pending again with backoff). Every move is a conditional update, so a second task, the sweep or
a redelivered message finds nothing to do. Sending happens outside any transaction, bounded by
the channel's timeout; no database lock is held while a receiver is slow.

Functions here return the follow-up work [(notification id, due time)]; the task enqueues it."""

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from delivery import safetext
from delivery.channels import ChannelError, Destination, channel_for
from delivery.messages import Message
from incidents.services import timeline_record

from . import services, subscriptions
from .ack import ack_url
from .models import Composer, ContactMethod, Notification, NotificationStatus

logger = logging.getLogger(__name__)
S = NotificationStatus

DIGEST_LIST = 5  # titles listed in a rate-limit digest before "and N more"
ERROR_LIMIT = 2000  # characters of an error or a receiver's answer kept on the row


@dataclass
class Claim:
    notification: Notification | None = None
    follow_up: list = field(default_factory=list)


def rate_window(method: ContactMethod, now: datetime) -> tuple[datetime, datetime]:
    """The fixed window `now` falls in, aligned to the epoch."""
    seconds = max(int(method.rate_limit_window.total_seconds()), 1)
    start = int(now.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(start, tz=UTC), datetime.fromtimestamp(start + seconds, tz=UTC)


def _cancel_reason(row: Notification) -> str:
    if row.contact_method_id is None and row.subscription_id is None:
        return "The contact method or subscription was deleted."
    if row.contact_method_id and not row.contact_method.is_active:
        return "The contact method is disabled."
    if row.subscription_id and not row.subscription.is_active:
        return "The subscription is disabled."
    if row.cancel_if_acknowledged and row.incident_id:
        incident = row.incident
        if incident.is_acknowledged or not incident.is_open:
            return "Skipped: the incident was acknowledged before this step was due."
    return ""


def _over_rate_limit(row: Notification, now: datetime) -> bool:
    method = row.contact_method
    if method is None or row.composer == Composer.RATE_DIGEST or row.message.get("kind") == "test":
        return False
    start, _end = rate_window(method, now)
    recent = (
        Notification.objects.filter(contact_method=method, status__in=[S.SENT, S.SENDING], claimed_at__gte=start)
        .exclude(pk=row.pk).exclude(composer=Composer.RATE_DIGEST).count()
    )
    return recent >= method.rate_limit_count


def _fold(row: Notification, now: datetime) -> Notification:
    """Hold `row` back for this window's digest (created on first use, due at the window's end)."""
    method = row.contact_method
    start, end = rate_window(method, now)
    key = f"digest:{method.pk}:{int(start.timestamp())}"
    digest = services.create_notification(
        dedup_key=key, step=0, user=method.user, contact_method=method, channel=method.kind,
        target=method.display_target, composer=Composer.RATE_DIGEST, due_at=end,
        message={"kind": "digest", "title": "Notifications held back by the rate limit"},
        max_attempts=settings.NOTIFY_MAX_ATTEMPTS,
    )
    if digest is None:
        digest = Notification.objects.get(dedup_key=key, contact_method=method, step=0)
    Notification.objects.filter(pk=row.pk, status=S.SENDING).update(
        status=S.FOLDED, digest=digest, error=f"Rate limit: {method.rate_limit_count} per window; folded into a digest."
    )
    return digest


def claim(notification_id: int, now: datetime | None = None, *, from_sweep: bool = False,
          row: Notification | None = None) -> Claim:
    """Take a due pending row for sending. Cancels it instead when its incident was acknowledged
    (delayed steps) or its destination is gone, and folds it into a digest when its contact
    method is over the rate limit. Decisions for one contact method are serialised by a lock
    on the method's row.

    `row`: the caller's own copy of a row it has just committed (inline delivery); its contact
    method is re-read under the lock, the rest of it is what was written.

    Lock order: a task locks the contact method, then updates the notification row. The sweep
    already holds notification rows (skip_locked), so it must never wait for a method lock:
    it skips a row whose method is busy and leaves it to the task or the next sweep."""
    now = now or timezone.now()
    with transaction.atomic():
        if row is not None:
            method_id = row.contact_method_id
        else:
            method_id = Notification.objects.filter(pk=notification_id).values_list("contact_method_id", flat=True).first()
        method = None
        if method_id is not None:
            method = ContactMethod.objects.select_for_update(skip_locked=from_sweep).filter(pk=method_id).first()
            if from_sweep and method is None and ContactMethod.objects.filter(pk=method_id).exists():
                return Claim()
        taken = Notification.objects.filter(pk=notification_id, status=S.PENDING, due_at__lte=now).update(
            status=S.SENDING, claimed_at=now
        )
        if not taken:
            return Claim()
        if row is None:
            row = Notification.objects.select_related("subscription", "incident", "user").get(pk=notification_id)
        row.status, row.claimed_at = S.SENDING, now
        if method_id is not None:
            row.contact_method = method  # as read under the lock (None: deleted since)
        reason = _cancel_reason(row)
        if reason:
            Notification.objects.filter(pk=row.pk, status=S.SENDING).update(status=S.CANCELLED, error=reason)
            return Claim()
        if _over_rate_limit(row, now):
            digest = _fold(row, now)
            return Claim(follow_up=[(digest.pk, digest.due_at)])
        return Claim(notification=row)


def compose(row: Notification) -> Message | None:
    """The message as it goes out now; None when there is nothing left to say."""
    if row.composer == Composer.RATE_DIGEST:
        message = _compose_rate_digest(row)
    elif row.composer == Composer.SUBSCRIPTION_DIGEST:
        message = subscriptions.compose_digest(row)
    else:
        message = Message.from_dict(row.message)
    if message is None:
        return None
    incident = row.incident
    if (message.incident_id and row.user_id and row.contact_method_id and incident is not None
            and incident.is_open and not incident.is_acknowledged):
        message = replace(message, ack_url=ack_url(incident_id=message.incident_id, user_id=row.user_id))
    return message


def _compose_rate_digest(row: Notification) -> Message | None:
    folded = list(row.folded.order_by("created_at", "pk").values_list("message", flat=True))
    if not folded:
        return None
    lines = [f"• {m.get('title', '')}" for m in folded[:DIGEST_LIST]]
    if len(folded) > DIGEST_LIST:
        lines.append(f"…and {len(folded) - DIGEST_LIST} more")
    severities = {m.get("severity") for m in folded if m.get("severity")}
    worst = sorted(severities)[0] if severities else ""
    return Message(
        kind="digest", title=f"{len(folded)} more notification{'s' if len(folded) != 1 else ''} held back by your rate limit",
        body="\n".join(lines), url=settings.SITE_URL + reverse("incidents:list"), severity=worst,
    )


def destination(row: Notification) -> Destination:
    source = row.contact_method or row.subscription
    return Destination(target=source.target, secret=source.secret, message_id=f"msg_{row.public_id.hex}")


def backoff(attempts: int) -> timedelta:
    seconds = settings.NOTIFY_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, settings.NOTIFY_RETRY_MAX_SECONDS))


def send_claimed(row: Notification) -> list:
    """Send a row this worker claimed and record the outcome. Returns follow-up work."""
    try:
        message = compose(row)
        if message is None:
            Notification.objects.filter(pk=row.pk, status=S.SENDING).update(status=S.CANCELLED, error="Nothing to send.")
            return []
        delivery = channel_for(row.channel, destination(row)).send(message)
    except ChannelError as exc:
        return _failed(row, exc)
    except Exception as exc:  # a bug or an unexpected library error: retry like a transient failure
        logger.exception("notification %s: unexpected error", row.pk)
        return _failed(row, ChannelError(f"{type(exc).__name__}: {exc}"))
    now = timezone.now()
    Notification.objects.filter(pk=row.pk, status=S.SENDING).update(
        status=S.SENT, sent_at=now, attempts=F("attempts") + 1, response_code=delivery.status_code,
        response=safetext.text(delivery.response, ERROR_LIMIT), error="",
    )
    if row.composer == Composer.SUBSCRIPTION_DIGEST:
        return subscriptions.after_digest_sent(row)
    return []


def _failed(row: Notification, exc: ChannelError) -> list:
    attempts = row.attempts + 1
    error = safetext.text(exc.message, ERROR_LIMIT) or type(exc).__name__
    fields = {"attempts": attempts, "error": error, "response_code": exc.status_code,
              "response": safetext.text(exc.response, ERROR_LIMIT)}
    if exc.permanent or attempts >= row.max_attempts:
        with transaction.atomic():
            if not Notification.objects.filter(pk=row.pk, status=S.SENDING).update(status=S.FAILED, **fields):
                return []  # recorded already (a duplicate task): the fallback ran then
            logger.warning("notification %s failed for good after %s attempt(s): %s", row.pk, attempts, safetext.line(error, 300))
            return fall_back(row, error)
    due = timezone.now() + backoff(attempts)
    Notification.objects.filter(pk=row.pk, status=S.SENDING).update(status=S.PENDING, due_at=due, **fields)
    return [(row.pk, due)]


def fall_back(row: Notification, error: str) -> list:
    """After `row` failed for good: the person's next channel by their rules (a pending row of
    the same page on another contact method, due later) is due now, and the incident's timeline
    says what failed and what is tried instead. Returns follow-up work."""
    if row.user_id is None or row.contact_method_id is None:
        return []
    now = timezone.now()
    nxt = (
        Notification.objects.filter(dedup_key=row.dedup_key, user_id=row.user_id, status=S.PENDING, step__gt=row.step)
        .exclude(contact_method_id=row.contact_method_id).order_by("step", "pk").first()
    )
    moved = nxt is not None and Notification.objects.filter(pk=nxt.pk, status=S.PENDING).update(due_at=now)
    if row.incident_id:
        name = row.user.get_full_name() or row.user.get_username()
        if moved:
            then = f"trying {nxt.get_channel_display()} {nxt.target} now instead of after {nxt.step} min"
        elif Notification.objects.filter(dedup_key=row.dedup_key, user_id=row.user_id).exclude(
                contact_method_id=row.contact_method_id).exists():
            then = "their other channels were tried already"
        else:
            then = "no other channel left in their notification rules"
        timeline_record(
            incident=row.incident, kind="notification.failed", actor_label="Notifications",
            message=safetext.line(f"{row.get_channel_display()} to {name} ({row.target}) failed: {error}; {then}", 2000),
            data={"notification": str(row.public_id), "fallback": str(nxt.public_id) if moved else None},
            dispatch=False,
        )
    return [(nxt.pk, now)] if moved else []


def deliver(notification_id: int, *, row: Notification | None = None) -> list:
    """Claim and send one row (the ETA task's work, or inline with the caller's fresh `row`).
    Returns follow-up work."""
    taken = claim(notification_id, row=row)
    if taken.notification is None:
        return taken.follow_up
    return taken.follow_up + send_claimed(taken.notification)


def sweep_claim(now: datetime | None = None, limit: int | None = None) -> tuple[list[Notification], list]:
    """The safety net's first half: put rows stuck in `sending` by a killed worker back to
    pending, then claim due rows the fast path missed (skip_locked, so two sweeps split the
    work). Returns the claimed rows and follow-up work."""
    now = now or timezone.now()
    limit = limit or settings.NOTIFY_SWEEP_BATCH
    stale = now - timedelta(seconds=settings.NOTIFY_STALE_SENDING_SECONDS)
    Notification.objects.filter(status=S.SENDING, claimed_at__lt=stale).update(status=S.PENDING, due_at=now)
    follow_up = []
    claimed = []
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=S.PENDING, due_at__lte=now - timedelta(seconds=settings.NOTIFY_SWEEP_GRACE_SECONDS))
            .order_by("due_at").values_list("pk", flat=True)[:limit]
        )
        for pk in ids:
            taken = claim(pk, now=now, from_sweep=True)
            follow_up += taken.follow_up
            if taken.notification is not None:
                claimed.append(taken.notification)
    return claimed, follow_up


def send_claimed_fenced(notification_id: int, claimed_at: datetime) -> list:
    """Send a row the sweep claimed at `claimed_at`. The claim time is a fence: the first
    caller moves it on, so a duplicate message (or the inline fallback racing the task) finds
    nothing to do."""
    fenced = Notification.objects.filter(pk=notification_id, status=S.SENDING, claimed_at=claimed_at).update(claimed_at=timezone.now())
    if not fenced:
        return []
    row = Notification.objects.select_related("contact_method", "subscription", "incident", "user").get(pk=notification_id)
    return send_claimed(row)


def sweep(now: datetime | None = None, limit: int | None = None) -> list:
    """Claim and send inline (the task fans the sends out to the worker pool instead)."""
    claimed, follow_up = sweep_claim(now, limit)
    for row in claimed:
        follow_up += send_claimed_fenced(row.pk, row.claimed_at)
    return follow_up
