"""Thin Celery tasks. (Reminders are sent by the delivery layer's tasks and sweep.)"""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import reminders


@shared_task(ignore_result=True)
def action_item_digest_task() -> int:
    """Hourly: from POSTMORTEM_DIGEST_HOUR on, plan today's digests (one row per owner per day,
    so running every hour, or twice, sends one digest); the delivery layer sends them."""
    if timezone.localtime().hour < settings.POSTMORTEM_DIGEST_HOUR:
        return 0
    return reminders.schedule_digests()
