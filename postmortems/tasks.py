"""Thin Celery tasks: claim, then call the delivery / scheduling code. All idempotent."""

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import delivery

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def reminder_send_task(reminder_id: int) -> None:
    """Fast path for one reminder (ETA). Does nothing if the sweep or another copy claimed it."""
    if delivery.claim(reminder_id):
        delivery.deliver(reminder_id)


@shared_task(ignore_result=True)
def reminder_sweep_task() -> int:
    """Safety net: send every due reminder the fast path missed."""
    ids = delivery.claim_due()
    for reminder_id in ids:
        delivery.deliver(reminder_id)
    if ids:
        logger.info("reminder sweep sent %s reminder(s)", len(ids))
    return len(ids)


@shared_task(ignore_result=True)
def action_item_digest_task() -> int:
    """Hourly: from POSTMORTEM_DIGEST_HOUR on, make today's digest rows (one per owner per day,
    so running every hour, or twice, sends one digest), then send them."""
    if timezone.localtime().hour < settings.POSTMORTEM_DIGEST_HOUR:
        return 0
    made = delivery.schedule_digests()
    reminder_sweep_task()
    return len(made)
