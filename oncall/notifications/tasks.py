"""Thin Celery tasks: deliver one notification (the ETA fast path), send a row the sweep
claimed, and the sweep itself (the safety net)."""

import logging

from celery import shared_task
from django.utils.dateparse import parse_datetime

from . import delivery, reminders, services

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def notification_deliver_task(notification_id: int) -> None:
    services.enqueue_many(delivery.deliver(notification_id))


@shared_task(ignore_result=True)
def notification_send_claimed_task(notification_id: int, claimed_at: str) -> None:
    services.enqueue_many(delivery.send_claimed_fenced(notification_id, parse_datetime(claimed_at)))


@shared_task(ignore_result=True)
def notifications_sweep_task() -> int:
    """Deliver due rows the fast path missed and fire due update reminders.

    Claimed rows are sent by separate tasks, so one slow receiver holds up only its own send;
    if the broker refuses the task, the sweep sends inline (the claim-time fence stops doubles)."""
    claimed, follow_up = delivery.sweep_claim()
    for row in claimed:
        try:
            notification_send_claimed_task.delay(notification_id=row.pk, claimed_at=row.claimed_at.isoformat())
        except Exception as exc:
            logger.warning("could not hand notification %s to the pool (%s); sending inline", row.pk, exc)
            follow_up += delivery.send_claimed_fenced(row.pk, row.claimed_at)
    services.enqueue_many(follow_up)
    fired = reminders.sweep()
    if fired:
        logger.info("sent %s update reminder(s)", fired)
    return len(claimed) + fired
