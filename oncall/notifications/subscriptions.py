"""Stakeholder subscriptions: incident events to a Slack or Teams channel or an email list,
filtered by severity, in real time or as an hourly digest while the incident is open.

Every message is a row of the delivery layer (purpose `stakeholders`, destination the
subscription). Real-time: one row per (event, subscription). Hourly: a chain of rows keyed
`hourly:<incident>` with step 1, 2, 3...; each one, once sent, schedules the next while the
incident is open. Both are idempotent under the rows' unique constraint."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from delivery import outbox
from delivery.messages import Message
from delivery.models import Delivery, DeliveryStatus
from incidents import outgoing
from incidents.selectors import incident_visible

from . import routes, selectors
from .models import Frequency, StakeholderSubscription

STAKEHOLDERS = selectors.STAKEHOLDERS
DIGEST = "subscription_digest"  # Delivery.kind of an hourly digest: composed when it is sent
REALTIME_KINDS = {
    "declared", "status_changed", "mitigated", "severity_changed", "status_update", "resolved", "reopened",
}
DIGEST_LINES = 12


def incident_message(incident, *, kind: str, body: str) -> Message:
    return Message(
        kind=kind, title=outgoing.title(incident, f"{incident.number} {incident.title}"), body=body,
        url=settings.SITE_URL + incident.get_absolute_url(), severity=incident.severity.key, incident_id=incident.pk,
    )


def subscriptions_for(incident):
    """The active subscriptions that hear about `incident`: its severity ticked (or none ticked),
    and for a drill only those that chose to hear about drills."""
    subs = StakeholderSubscription.objects.filter(is_active=True).prefetch_related("severities")
    if incident.is_drill:
        subs = subs.filter(include_drills=True)
    return [s for s in subs if not s.severities.all() or incident.severity in s.severities.all()]


def _rows(sub: StakeholderSubscription, dedup_key: str):
    return Delivery.objects.filter(purpose=STAKEHOLDERS, destination_id=sub.pk, dedup_key=dedup_key)


def _row(sub, *, dedup_key: str, step: int, incident, message, due_at, kind: str = ""):
    channel, target = sub.kind, sub.display_target
    routed = routes.for_subscription(sub)
    if routed:  # a chat app channel: posted by the bot, with buttons (oncall.notifications.routes)
        channel, target, data = routed
        message = message.as_dict() if isinstance(message, Message) else dict(message)
        message["data"] = {**(message.get("data") or {}), "route": data}
    return outbox.create(
        purpose=STAKEHOLDERS, kind=kind, channel=channel, target=target, destination_id=sub.pk,
        dedup_key=dedup_key, step=step, incident_id=incident.pk, message=message, due_at=due_at,
    )


def on_incident_event(event) -> list[Delivery]:
    """Queue what each matching subscription should get for this event."""
    if event.kind not in REALTIME_KINDS:
        return []
    incident = event.incident
    if not incident_visible(incident, None):
        return []  # a restricted incident never reaches stakeholder lists (a drill only those that chose it)
    now = timezone.now()
    created = []
    for sub in subscriptions_for(incident):
        if sub.frequency == Frequency.REALTIME:
            message = incident_message(incident, kind=f"incident.{event.kind}", body=event.message)
            row = _row(sub, dedup_key=f"event:{event.pk}", step=0, incident=incident, message=message, due_at=now)
        elif event.kind in ("declared", "reopened", "severity_changed", "resolved"):
            # declared / reopened (or a severity change into the filter) start the hourly chain;
            # resolved sends a closing digest now
            key = f"hourly:{incident.pk}"
            due = now if event.kind == "resolved" else now + settings.NOTIFY_DIGEST_INTERVAL
            last = _rows(sub, key).aggregate(m=Max("step"))["m"] or 0
            if event.kind != "resolved" and _rows(sub, key).filter(status=DeliveryStatus.PENDING).exists():
                continue
            row = _row(sub, dedup_key=key, step=last + 1, incident=incident,
                       message={"kind": "digest", "title": f"{incident.number} hourly digest"}, due_at=due, kind=DIGEST)
        else:
            continue
        if row is not None:
            created.append(row)
    outbox.enqueue_on_commit(created)
    return created


def compose_digest(row: Delivery) -> Message | None:
    """What happened on the incident since this subscription's previous digest."""
    incident = row.incident
    sub = StakeholderSubscription.objects.filter(pk=row.destination_id).first()
    if (incident is None or sub is None or sub.frequency != Frequency.HOURLY or (incident.is_drill and not sub.include_drills)
            or not incident_visible(incident, None)):
        return None
    previous = _rows(sub, row.dedup_key).filter(status=DeliveryStatus.SENT).exclude(pk=row.pk).aggregate(m=Max("sent_at"))["m"]
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


def after_digest_sent(row: Delivery) -> list[Delivery]:
    """The next hourly digest of the chain, while the incident is open."""
    incident = row.incident
    sub = StakeholderSubscription.objects.filter(pk=row.destination_id).first()
    if row.kind != DIGEST or incident is None or sub is None:
        return []
    incident.refresh_from_db(fields=["status"])
    if not incident.is_open:
        return []
    nxt = _row(sub, dedup_key=row.dedup_key, step=row.step + 1, incident=incident, message=row.message,
               due_at=timezone.now() + settings.NOTIFY_DIGEST_INTERVAL, kind=DIGEST)
    return [nxt] if nxt is not None else []
