"""Heartbeats: a ping pushes the due time forward; a missed one is marked down by compare-and-set
(ETA task as the fast path, the sweep as the safety net) and opens its alert through ingest."""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from delivery.durable import LateTask

from ..models import Heartbeat, HeartbeatStatus, Integration
from ..parsers.base import FIRING, RESOLVED, AlertIn
from .ingest import alerts_ingest

logger = logging.getLogger(__name__)

HEARTBEAT_FINGERPRINT = "heartbeat"
# Bound in IntegrationsConfig.ready() to tasks.heartbeat_check_task (which imports this module).
heartbeat_check_later = LateTask("heartbeat check")


def _heartbeat_alert(integration: Integration, action: str, heartbeat: Heartbeat) -> AlertIn:
    return AlertIn(
        action=action, fingerprint=HEARTBEAT_FINGERPRINT, group_value=HEARTBEAT_FINGERPRINT,
        title=f"Heartbeat missed: {integration.name}",
        description=f"No ping within {heartbeat.interval} (+ {heartbeat.grace} grace). Last ping: "
                    f"{heartbeat.last_ping_at:%Y-%m-%d %H:%M:%S %Z}." if heartbeat.last_ping_at else "No ping yet.",
        labels={"alertname": "HeartbeatMissed", "integration": integration.name},
        payload={"heartbeat": integration.name, "last_ping_at": heartbeat.last_ping_at.isoformat() if heartbeat.last_ping_at else None},
        fields={"alertname": "HeartbeatMissed", "severity": ""},
    ) if action == FIRING else AlertIn(
        action=action, fingerprint=HEARTBEAT_FINGERPRINT, group_value=HEARTBEAT_FINGERPRINT,
        payload={"heartbeat": integration.name, "ping": True},
    )


def heartbeat_ping(*, integration: Integration, now: datetime | None = None) -> Heartbeat:
    """A ping: push the due time forward; if the monitor was down, resolve its alert."""
    now = now or timezone.now()
    with transaction.atomic():
        heartbeat = Heartbeat.objects.select_for_update().get(integration=integration)
        was_down = heartbeat.status == HeartbeatStatus.DOWN
        heartbeat.last_ping_at, heartbeat.status = now, HeartbeatStatus.UP
        heartbeat.due_at = now + heartbeat.interval + heartbeat.grace
        heartbeat.save(update_fields=["last_ping_at", "status", "due_at"])
        if was_down:
            alerts_ingest(integration=integration, alerts=[_heartbeat_alert(integration, RESOLVED, heartbeat)], now=now)
        heartbeat_check_later.enqueue(heartbeat_id=heartbeat.pk, eta=heartbeat.due_at)  # after commit; else the sweep
    return heartbeat


def heartbeat_check(*, heartbeat_id: int, now: datetime | None = None) -> bool:
    """Mark a due heartbeat down and open its alert. Compare-and-set on (status, due_at): a
    second call, or one after a ping moved the due time, does nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Heartbeat.objects.filter(pk=heartbeat_id, status=HeartbeatStatus.UP, due_at__lte=now).update(status=HeartbeatStatus.DOWN)
        if not claimed:
            return False
        heartbeat = Heartbeat.objects.select_related("integration__service", "integration__default_severity").get(pk=heartbeat_id)
        integration = heartbeat.integration
        if integration.revoked_at:
            return True
        alerts_ingest(integration=integration, alerts=[_heartbeat_alert(integration, FIRING, heartbeat)], now=now)
    return True


def heartbeat_sweep(*, now: datetime | None = None, batch: int = 200) -> int:
    """The safety net: claim due heartbeats (SKIP LOCKED) and check each."""
    now = now or timezone.now()
    done = 0
    with transaction.atomic():
        due = list(
            Heartbeat.objects.select_for_update(skip_locked=True)
            .filter(status=HeartbeatStatus.UP, due_at__lte=now)
            .order_by("due_at")
            .values_list("pk", flat=True)[:batch]
        )
        for heartbeat_id in due:
            done += heartbeat_check(heartbeat_id=heartbeat_id, now=now)
    return done
