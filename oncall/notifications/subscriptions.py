"""Stakeholder subscriptions: incident events to a Slack or Teams channel or an email list,
filtered by severity, in real time or as an hourly digest while the incident is open.

Real-time: one row per (event, subscription). Hourly: a chain of rows keyed
`hourly:<incident>` with step 1, 2, 3...; each one, once sent, schedules the next while the
incident is open. Both are idempotent under the rows' unique constraints."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from delivery.messages import Message

from . import services
from .models import Composer, Frequency, Notification, NotificationStatus, StakeholderSubscription

REALTIME_KINDS = {
    "declared", "status_changed", "mitigated", "severity_changed", "status_update", "resolved", "reopened",
}
DIGEST_LINES = 12


def incident_message(incident, *, kind: str, body: str) -> Message:
    return Message(
        kind=kind, title=f"{incident.number} {incident.title}", body=body,
        url=settings.SITE_URL + incident.get_absolute_url(), severity=incident.severity.key, incident_id=incident.pk,
    )


def subscriptions_for(incident):
    subs = StakeholderSubscription.objects.filter(is_active=True).prefetch_related("severities")
    return [s for s in subs if not s.severities.all() or incident.severity in s.severities.all()]


def _row(sub, *, dedup_key: str, step: int, incident, message: dict, due_at, composer: str = Composer.STORED):
    return services.create_notification(
        dedup_key=dedup_key, step=step, subscription=sub, incident=incident, channel=sub.kind,
        target=sub.display_target, message=message, composer=composer, due_at=due_at,
        max_attempts=settings.NOTIFY_MAX_ATTEMPTS,
    )


def on_incident_event(event) -> list[Notification]:
    """Queue what each matching subscription should get for this event."""
    if event.kind not in REALTIME_KINDS:
        return []
    incident = event.incident
    now = timezone.now()
    created = []
    for sub in subscriptions_for(incident):
        if sub.frequency == Frequency.REALTIME:
            message = incident_message(incident, kind=f"incident.{event.kind}", body=event.message)
            row = _row(sub, dedup_key=f"event:{event.pk}", step=0, incident=incident, message=message.as_dict(), due_at=now)
        elif event.kind in ("declared", "reopened", "severity_changed", "resolved"):
            # declared / reopened (or a severity change into the filter) start the hourly chain;
            # resolved sends a closing digest now
            due = now if event.kind == "resolved" else now + settings.NOTIFY_DIGEST_INTERVAL
            last = Notification.objects.filter(subscription=sub, dedup_key=f"hourly:{incident.pk}").aggregate(m=Max("step"))["m"] or 0
            if event.kind != "resolved" and Notification.objects.filter(
                subscription=sub, dedup_key=f"hourly:{incident.pk}", status=NotificationStatus.PENDING
            ).exists():
                continue
            row = _row(sub, dedup_key=f"hourly:{incident.pk}", step=last + 1, incident=incident,
                       message={"kind": "digest", "title": f"{incident.number} hourly digest"}, due_at=due,
                       composer=Composer.SUBSCRIPTION_DIGEST)
        else:
            continue
        if row is not None:
            created.append(row)
    services.enqueue_on_commit(created)
    return created


def compose_digest(row: Notification) -> Message | None:
    """What happened on the incident since this subscription's previous digest."""
    incident, sub = row.incident, row.subscription
    if incident is None or sub is None or sub.frequency != Frequency.HOURLY:
        return None
    previous = (
        Notification.objects.filter(subscription=sub, dedup_key=row.dedup_key, status=NotificationStatus.SENT)
        .exclude(pk=row.pk).aggregate(m=Max("sent_at"))["m"]
    )
    since = previous or incident.declared_at - timedelta(seconds=1)
    events = list(incident.timeline.filter(created_at__gt=since, kind__in=REALTIME_KINDS | {"note"}).order_by("occurred_at", "pk")[:DIGEST_LINES + 1])
    if not events and not incident.is_open:
        return None
    lines = [f"• {timezone.localtime(e.occurred_at):%H:%M} {e.message}" for e in events[:DIGEST_LINES]]
    if len(events) > DIGEST_LINES:
        lines.append("…and more on the incident page")
    if not lines:
        lines = ["No changes since the last digest."]
    state = incident.get_status_display()
    return Message(
        kind="incident.digest", title=f"{incident.number} {incident.title} ({state})", body="\n".join(lines),
        url=settings.SITE_URL + incident.get_absolute_url(), severity=incident.severity.key, incident_id=incident.pk,
    )


def after_digest_sent(row: Notification) -> list:
    incident = row.incident
    if incident is None or row.subscription is None:
        return []
    incident.refresh_from_db(fields=["status"])
    if not incident.is_open:
        return []
    due = timezone.now() + settings.NOTIFY_DIGEST_INTERVAL
    nxt = _row(row.subscription, dedup_key=row.dedup_key, step=row.step + 1, incident=incident,
               message=row.message, due_at=due, composer=Composer.SUBSCRIPTION_DIGEST)
    return [(nxt.pk, nxt.due_at)] if nxt is not None else []
