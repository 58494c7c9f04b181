"""Thin Celery tasks: deliver one notification (the ETA fast path) and the sweep (safety net)."""

import logging

from celery import shared_task

from . import delivery, reminders, services

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def notification_deliver_task(notification_id: int) -> None:
    services.enqueue_many(delivery.deliver(notification_id))


@shared_task(ignore_result=True)
def notifications_sweep_task() -> int:
    """Deliver due rows the fast path missed and fire due update reminders."""
    follow_up = delivery.sweep()
    services.enqueue_many(follow_up)
    fired = reminders.sweep()
    if fired:
        logger.info("sent %s update reminder(s)", fired)
    return len(follow_up) + fired
