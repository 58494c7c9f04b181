"""Sending reminders: claim the row, check it still matters, send by Django's email backend
(text + HTML, an .ics for review invitations), record the attempt, retry with backoff.

Text is made safe where it leaves (`delivery.safetext`): one-line bounded subjects, bodies
without control characters, iCalendar values the icalendar library escapes after control
characters are gone; an email that cannot be built fails for good at once.

Claiming is a conditional update (pending -> sending), so the ETA fast path, the sweep and a
redelivered message never send one reminder twice."""

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from delivery import safetext

from .models import ACTION_OPEN_STATUSES, ActionItem, EmailAttempt, PostmortemStatus, Reminder, ReminderKind, ReminderStatus

logger = logging.getLogger(__name__)

SWEEP_BATCH = 100
SUBJECT_LIMIT = 200
BODY_LIMIT = 100_000
# A reminder left "sending" this long (worker killed mid-send) is tried again.
STALE_CLAIM = timedelta(minutes=10)


def claim(reminder_id: int) -> bool:
    now = timezone.now()
    return bool(
        Reminder.objects.filter(pk=reminder_id, status=ReminderStatus.PENDING, due_at__lte=now)
        .update(status=ReminderStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )


def claim_due(batch: int = SWEEP_BATCH) -> list[int]:
    """The sweep's claim: lock due rows other sweeps are not holding, mark them sending."""
    now = timezone.now()
    Reminder.objects.filter(status=ReminderStatus.SENDING, claimed_at__lt=now - STALE_CLAIM).update(status=ReminderStatus.PENDING)
    with transaction.atomic():
        ids = list(
            Reminder.objects.select_for_update(skip_locked=True)
            .filter(status=ReminderStatus.PENDING, due_at__lte=now)
            .order_by("due_at", "pk").values_list("pk", flat=True)[:batch]
        )
        Reminder.objects.filter(pk__in=ids, status=ReminderStatus.PENDING).update(
            status=ReminderStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    return ids


def schedule_digests(today: date | None = None) -> list[Reminder]:
    """Today's digest for every owner of an overdue open action item (one per owner per day)."""
    today = today or timezone.localdate()
    now = timezone.now()
    owners = (
        ActionItem.objects.filter(status__in=ACTION_OPEN_STATUSES, due_date__lt=today, owner__isnull=False, owner__is_active=True)
        .values_list("owner", flat=True).distinct().order_by("owner")
    )
    made = []
    with transaction.atomic():
        for owner_id in owners:
            made.append(Reminder.objects.get_or_create(
                key=f"digest:{owner_id}:{today.isoformat()}",
                defaults={"kind": ReminderKind.DIGEST, "recipient_id": owner_id, "due_at": now},
            )[0])
    return made


def _url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _context(reminder: Reminder) -> dict | None:
    """What the email says, or None when the reminder no longer matters."""
    pm = reminder.postmortem
    ctx = {"reminder": reminder, "recipient": reminder.recipient, "site_url": settings.SITE_URL}
    if reminder.kind in (ReminderKind.DUE_SOON, ReminderKind.OVERDUE, ReminderKind.REVIEW_INVITE):
        if pm is None or pm.status == PostmortemStatus.PUBLISHED:
            return None
        ctx.update(postmortem=pm, incident=pm.incident, url=_url(pm.get_absolute_url()))
    if reminder.kind in (ReminderKind.DUE_SOON, ReminderKind.OVERDUE) and pm.owner_id != reminder.recipient_id:
        return None
    if reminder.kind == ReminderKind.REVIEW_INVITE and not pm.reviewers.filter(pk=reminder.recipient_id).exists():
        return None
    if reminder.kind == ReminderKind.DIGEST:
        items = list(
            ActionItem.objects.filter(owner=reminder.recipient, status__in=ACTION_OPEN_STATUSES, due_date__lt=timezone.localdate())
            .select_related("incident").order_by("due_date", "pk")
        )
        if not items:
            return None
        for item in items:
            item.ticket_link = safetext.url(item.ticket_url)  # http(s) only: the link came from a person
        ctx.update(items=items, url=_url("/action-items/?owner=me&overdue=1"), today=timezone.localdate())
    return ctx


def _cn(user) -> vText:
    """A display name as an iCalendar parameter (no DQUOTE can appear in one)."""
    return vText(safetext.line(user.get_full_name() or user.username, 200).replace('"', "'"))


def invitation_ics(reminder: Reminder) -> bytes:
    pm = reminder.postmortem
    cal = Calendar()
    cal.add("prodid", "-//Incident Portal//Postmortems//EN")
    cal.add("version", "2.0")
    cal.add("method", "REQUEST")
    event = Event()
    event.add("uid", f"postmortem-review-{pm.pk}@{settings.SITE_URL.split('://', 1)[-1]}")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", pm.review_meeting_at)
    event.add("dtend", pm.review_meeting_at + timedelta(hours=1))
    event.add("summary", safetext.line(f"Postmortem review: {pm.incident.number} {pm.incident.title}", 500))
    event.add("description", f"Review of the postmortem for {pm.incident.number}.\n{_url(pm.get_absolute_url())}")
    event.add("url", _url(pm.get_absolute_url()))
    if pm.review_meeting_place:
        event["location"] = vText(safetext.line(pm.review_meeting_place, 500))
    if pm.owner and pm.owner.email:
        organizer = vCalAddress(f"mailto:{safetext.line(pm.owner.email, 254)}")
        organizer.params["cn"] = _cn(pm.owner)
        event["organizer"] = organizer
    attendee = vCalAddress(f"mailto:{safetext.line(reminder.recipient.email, 254)}")
    attendee.params["cn"] = _cn(reminder.recipient)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    event.add("attendee", attendee, encode=0)
    cal.add_component(event)
    return cal.to_ical()


def build_message(reminder: Reminder, ctx: dict) -> EmailMultiAlternatives:
    """The whole email, headers and all; an error here means it can never be sent."""
    base = f"postmortems/emails/{reminder.kind}"
    message = EmailMultiAlternatives(
        subject=safetext.line(render_to_string(f"{base}_subject.txt", ctx), SUBJECT_LIMIT),
        body=safetext.text(render_to_string(f"{base}.txt", ctx), BODY_LIMIT), from_email=settings.DEFAULT_FROM_EMAIL,
        to=[reminder.recipient.email], headers={"X-Portal-Reminder": safetext.line(reminder.key, 200)},
    )
    message.attach_alternative(safetext.text(render_to_string(f"{base}.html", ctx), BODY_LIMIT * 2), "text/html")
    if reminder.kind == ReminderKind.REVIEW_INVITE:
        message.attach("invite.ics", invitation_ics(reminder), "text/calendar; method=REQUEST")
    message.message()
    return message


def _finish(reminder: Reminder, status: str, **fields) -> None:
    Reminder.objects.filter(pk=reminder.pk, status=ReminderStatus.SENDING).update(status=status, **fields)


def deliver(reminder_id: int) -> str | None:
    """Send one claimed reminder; returns the status it ends in."""
    reminder = (
        Reminder.objects.select_related("recipient", "postmortem__incident", "postmortem__owner")
        .filter(pk=reminder_id, status=ReminderStatus.SENDING).first()
    )
    if reminder is None:
        return None
    ctx = _context(reminder)
    if ctx is None:
        _finish(reminder, ReminderStatus.CANCELLED)
        return ReminderStatus.CANCELLED
    if not reminder.recipient.email:
        _finish(reminder, ReminderStatus.FAILED, last_error="The recipient has no email address.")
        return ReminderStatus.FAILED
    try:
        message = build_message(reminder, ctx)
    except Exception as exc:  # a template or a header that can never work: fail now, not after every retry
        error = safetext.text(f"Could not build the email: {type(exc).__name__}: {exc}", 2000)
        logger.exception("reminder %s: could not build the email", reminder.pk)
        EmailAttempt.objects.create(reminder=reminder, to=reminder.recipient.email, subject="", ok=False, error=error)
        _finish(reminder, ReminderStatus.FAILED, last_error=error)
        return ReminderStatus.FAILED
    try:
        message.send()
    except Exception as exc:
        error = safetext.text(f"{type(exc).__name__}: {exc}", 2000)
        EmailAttempt.objects.create(reminder=reminder, to=reminder.recipient.email, subject=message.subject, ok=False, error=error)
        if reminder.attempts >= settings.POSTMORTEM_REMINDER_MAX_ATTEMPTS:
            _finish(reminder, ReminderStatus.FAILED, last_error=error)
            return ReminderStatus.FAILED
        backoff = timedelta(seconds=30 * 2 ** (reminder.attempts - 1))
        _finish(reminder, ReminderStatus.PENDING, last_error=error, due_at=timezone.now() + backoff)
        logger.warning("reminder %s failed (%s); retrying in %s", reminder.pk, error, backoff)
        return ReminderStatus.PENDING
    EmailAttempt.objects.create(reminder=reminder, to=reminder.recipient.email, subject=message.subject, ok=True)
    _finish(reminder, ReminderStatus.SENT, sent_at=timezone.now(), last_error="")
    return ReminderStatus.SENT
