"""The postmortems app's purpose in the delivery layer (`delivery.purposes`):
`postmortem_reminders`, one email to one person (`Delivery.destination_id` and `Delivery.user`
are the recipient; `Delivery.incident` is the postmortem's incident, one postmortem each).

Rows are planned by `postmortems.reminders`. At send time:
- cancelled when it no longer matters: the postmortem is published or gone, the recipient no
  longer owns it (due soon, overdue) or reviews it (invitation);
- composed from the current state (template `postmortem_<kind>`, `delivery.emails`): the due
  time and status as they are now, a digest's overdue items as they are today (none left:
  nothing to send), an .ics invitation attached to a review invitation;
- sent to the recipient's account email (none: a permanent failure).

Claim, retries with backoff, the stale-claim lease and the sweep are the delivery layer's."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import dateformat, timezone
from icalendar import Calendar, Event, vCalAddress, vText

from delivery import purposes, safetext
from delivery.channels import Destination
from delivery.messages import Message
from delivery.models import Delivery

from .models import ACTION_OPEN_STATUSES, ActionItem, Postmortem, PostmortemStatus
from .reminders import OWNER_KINDS, PURPOSE, ReminderKind


def _url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _name(user) -> str:
    return user.get_full_name() or user.get_username() if user is not None else "—"


def _when(value, fmt: str = "Y-m-d H:i T") -> str:
    return dateformat.format(timezone.localtime(value), fmt) if value else ""


def _recipient(row: Delivery):
    return get_user_model().objects.filter(pk=row.destination_id).first()


def _postmortem(row: Delivery) -> Postmortem | None:
    if row.incident_id is None:
        return None
    return Postmortem.objects.select_related("incident__severity", "owner").filter(incident_id=row.incident_id).first()


def cancel_reason(row: Delivery) -> str:
    if row.kind == ReminderKind.DIGEST:
        return ""
    pm = _postmortem(row)
    if pm is None:
        return "The postmortem is gone."
    if pm.status == PostmortemStatus.PUBLISHED:
        return "The postmortem was published."
    if row.kind in OWNER_KINDS and pm.owner_id != row.destination_id:
        return "The postmortem has another owner now."
    if row.kind == ReminderKind.REVIEW_INVITE and not pm.reviewers.filter(pk=row.destination_id).exists():
        return "No longer a reviewer of the postmortem."
    if row.kind == ReminderKind.MEETING_DUE and pm.review_meeting_at is not None:
        return "The review meeting is scheduled."
    return ""


def destination(row: Delivery) -> Destination | None:
    user = _recipient(row)
    return Destination(target=user.email) if user is not None else None


def _cn(user) -> vText:
    """A display name as an iCalendar parameter (no DQUOTE can appear in one)."""
    return vText(safetext.line(_name(user), 200).replace('"', "'"))


def invitation_ics(pm: Postmortem, recipient) -> str:
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
    attendee = vCalAddress(f"mailto:{safetext.line(recipient.email, 254)}")
    attendee.params["cn"] = _cn(recipient)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    event.add("attendee", attendee, encode=0)
    cal.add_component(event)
    return cal.to_ical().decode()


def _digest_context(recipient) -> dict | None:
    today = timezone.localdate()
    items = list(
        ActionItem.objects.filter(owner=recipient, status__in=ACTION_OPEN_STATUSES, due_date__lt=today)
        .select_related("incident").order_by("due_date", "pk")
    )
    if not items:
        return None
    return {
        "items": [{
            "title": item.title, "number": item.incident.number, "category": item.get_category_display().lower(),
            "priority": item.get_priority_display().lower(), "due_date": item.due_date.isoformat(),
            "ticket_link": safetext.url(item.ticket_url),  # http(s) only: the link came from a person
        } for item in items],
        "url": _url("/action-items/?owner=me&overdue=1"),
    }


def _postmortem_context(pm: Postmortem) -> dict:
    return {
        "incident": {"number": pm.incident.number, "title": pm.incident.title},
        "postmortem": {
            "due_at": _when(pm.due_at), "due_at_short": _when(pm.due_at, "Y-m-d H:i"), "status": pm.get_status_display().lower(),
            "review_meeting_at": _when(pm.review_meeting_at), "review_meeting_at_short": _when(pm.review_meeting_at, "Y-m-d H:i"),
            "review_meeting_place": pm.review_meeting_place, "owner": _name(pm.owner),
            "meeting_due_at": _when(pm.meeting_due_at),
        },
        "url": _url(pm.get_absolute_url()),
    }


def compose(row: Delivery) -> Message | None:
    """The email as it goes out now; None when there is nothing left to say."""
    recipient = _recipient(row)
    if recipient is None:
        return None
    if row.kind == ReminderKind.DIGEST:
        context = _digest_context(recipient)
        pm = None
    else:
        pm = _postmortem(row)
        context = _postmortem_context(pm) if pm is not None else None
    if context is None:
        return None
    attachments = ()
    if row.kind == ReminderKind.REVIEW_INVITE and pm.review_meeting_at is not None:
        attachments = (("invite.ics", invitation_ics(pm, recipient), "text/calendar; method=REQUEST"),)
    stored = row.message or {}
    return Message(
        kind=row.kind, title=stored.get("title", ""), body="", url=context["url"], template=f"postmortem_{row.kind}",
        context={**context, "recipient": _name(recipient)}, headers={"X-Portal-Reminder": row.dedup_key},
        attachments=attachments,
    )


def register() -> None:
    purposes.register(purposes.Purpose(
        name=PURPOSE, label="Postmortem reminders", destination=destination, compose=compose, cancel_reason=cancel_reason,
    ))
