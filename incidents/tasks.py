"""Celery tasks of the core: the outbox relay. Each subscriber of an event runs in a task of its
own (`event_subscriber_task`, on the subscriber's queue); the sweep sends again what was lost."""

import logging
from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import events
from .models import DeliveryStatus, EventDelivery, TimelineEvent

logger = logging.getLogger(__name__)


def enqueue_deliveries(rows: list[EventDelivery], *, eta: datetime | None = None) -> int:
    """Send one task per outbox row, to its subscriber's queue. Stops at the first refusal (the
    broker is down: the sweep sends them when it is back). Returns how many went out."""
    sent = 0
    for row in rows:
        options = {"kwargs": {"delivery_id": row.pk}}
        queue = events.queue_of(row.subscriber)
        if queue:
            options["queue"] = queue
        if eta is not None:
            options["eta"] = eta
        try:
            event_subscriber_task.apply_async(**options)
        except Exception as exc:
            logger.warning("could not enqueue %s for event %s (%s); the sweep will send it", row.subscriber, row.event_id, exc)
            if eta is None:  # due now: the first sweep after the broker's return sends them
                events.deliveries_due_now([r.pk for r in rows[sent:]])
            break
        sent += 1
    return sent


@shared_task(ignore_result=True, acks_late=True)
def event_subscriber_task(delivery_id: int) -> None:
    """One subscriber, one event. A failure schedules this row's own retry (the sweep is the
    safety net behind it)."""
    outcome = events.delivery_run(delivery_id)
    if isinstance(outcome, datetime) and (outcome - timezone.now()).total_seconds() <= settings.EVENTS_RETRY_MAX_SECONDS:
        row = EventDelivery.objects.filter(pk=delivery_id).first()
        if row is not None and enqueue_deliveries([row], eta=outcome):
            # The ETA message is the fast path: the sweep waits its grace time behind it.
            EventDelivery.objects.filter(pk=row.pk, status=DeliveryStatus.PENDING, next_try_at=outcome).update(
                next_try_at=outcome + events.SWEEP_GRACE)


@shared_task(bind=True, ignore_result=True)
def dispatch_event_task(self, event_id: int) -> None:
    """Compatibility: messages queued before the outbox rows existed hand each row to its own
    task; called directly (tests, the shell) it runs them here."""
    event = TimelineEvent.objects.select_related("incident").filter(pk=event_id).first()
    if event is None or event.dispatched_at is not None:
        return
    if self.request.called_directly:
        events.run_subscribers(event)
        return
    if not event.deliveries.exists():
        events.deliveries_create(event)
    enqueue_deliveries(list(event.deliveries.filter(status=DeliveryStatus.PENDING)))


@shared_task(ignore_result=True)
def dispatch_sweep_task() -> int:
    """Safety net: send the outbox rows the fast path missed (broker down, worker killed), each
    to its own task. Cheap when there is nothing to do: two indexed queries."""
    rows = events.sweep_claim()
    sent = enqueue_deliveries(rows)
    if sent:
        logger.info("dispatch sweep sent %s subscriber task(s)", sent)
    return sent
