"""Celery tasks of the core: hand timeline events to the subscribers (the outbox relay)."""

import logging
from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from .events import run_subscribers
from .models import TimelineEvent

logger = logging.getLogger(__name__)

# The fast path gets this long before the sweep takes an event over.
SWEEP_GRACE = timedelta(seconds=5)
SWEEP_BATCH = 200


def _dispatch(event: TimelineEvent) -> bool:
    failed = run_subscribers(event)
    if failed:
        return False  # stays undispatched; the sweep tries again
    return bool(TimelineEvent.objects.filter(pk=event.pk, dispatched_at__isnull=True).update(dispatched_at=timezone.now()))


@shared_task(ignore_result=True)
def dispatch_event_task(event_id: int) -> None:
    event = TimelineEvent.objects.select_related("incident").filter(pk=event_id).first()
    if event is None or event.dispatched_at is not None:
        return
    _dispatch(event)


@shared_task(ignore_result=True)
def dispatch_sweep_task() -> int:
    """Safety net: dispatch events the fast path missed (broker down, worker killed)."""
    cutoff = timezone.now() - SWEEP_GRACE
    done = 0
    with transaction.atomic():
        events = list(
            TimelineEvent.objects.select_for_update(skip_locked=True)
            .select_related("incident")
            .filter(dispatched_at__isnull=True, created_at__lt=cutoff)
            .order_by("created_at")[:SWEEP_BATCH]
        )
        for event in events:
            done += _dispatch(event)
    if done:
        logger.info("dispatch sweep delivered %s event(s)", done)
    return done
