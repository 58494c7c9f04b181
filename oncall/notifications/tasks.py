"""Thin Celery tasks of this app. What it sends goes through the delivery layer's tasks
(`delivery.tasks`); the update-cadence reminders have their own due rows and sweep."""

import logging

from celery import shared_task

from . import reminders

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def update_reminders_sweep_task() -> int:
    """Fire due update reminders (each one pages its incident's communications lead)."""
    fired = reminders.sweep()
    if fired:
        logger.info("sent %s update reminder(s)", fired)
    return fired
