"""Celery tasks of the core: the outbox relay. Each subscriber of an event runs in a task of its
own (`event_subscriber_task`, on the subscriber's queue); the sweep sends again what was lost."""

import logging
from datetime import datetime

from celery import shared_task
from django.conf import settings

from delivery import durable

from . import events
from .models import EventDelivery, EventDeliveryStatus, TimelineEvent

logger = logging.getLogger(__name__)


def enqueue_deliveries(rows: list[EventDelivery], *, eta: datetime | None = None) -> None:
    """After commit, one task per outbox row, on its subscriber's queue (delivery.durable). If
    the broker refuses, the rest of the batch is left to the sweep: rows due now are marked so
    that the first sweep after the broker's return sends them."""
    on_refused = None if eta is not None else (lambda rest: events.deliveries_due_now([k["delivery_id"] for k in rest]))
    event_subscriber_task.enqueue_many([({"delivery_id": row.pk}, eta, events.queue_of(row.subscriber)) for row in rows],
                                       on_refused=on_refused)


@shared_task(ignore_result=True, acks_late=True)
def event_subscriber_task(delivery_id: int) -> None:
    """One subscriber, one event. A failure schedules this row's own retry (the sweep is the
    safety net behind it)."""
    outcome = events.delivery_run(delivery_id)
    if isinstance(outcome, datetime) and durable.within_horizon(outcome):
        row = EventDelivery.objects.filter(pk=delivery_id).first()
        if row is None:
            return
        # The ETA message is the fast path: the sweep waits its grace time behind it (and
        # sooner again if the broker refuses the message).
        EventDelivery.objects.filter(pk=row.pk, status=EventDeliveryStatus.PENDING, next_try_at=outcome).update(
            next_try_at=outcome + events.sweep_grace())
        event_subscriber_task.enqueue(
            delivery_id=row.pk, eta=outcome, queue=events.queue_of(row.subscriber),
            on_refused=lambda _rest: EventDelivery.objects.filter(pk=row.pk, status=EventDeliveryStatus.PENDING).update(
                next_try_at=outcome))


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
    enqueue_deliveries(list(event.deliveries.filter(status=EventDeliveryStatus.PENDING)))


@shared_task(ignore_result=True)
def dispatch_sweep_task() -> int:
    """Safety net of the default queue's subscribers: run here what the fast path missed (broker
    down, worker killed). Cheap when there is nothing to do: two indexed queries."""
    ran = events.sweep(None)
    if ran:
        logger.info("dispatch sweep ran %s subscriber row(s)", ran)
    return ran


@shared_task(ignore_result=True)
def paging_dispatch_sweep_task() -> int:
    """The same for the subscribers on the paging queue (the pager's): it runs on the paging
    pool (settings.PAGING_TASKS), so a missed page never waits behind the default pool's work."""
    ran = events.sweep(settings.PAGING_QUEUE)
    if ran:
        logger.info("paging dispatch sweep ran %s subscriber row(s)", ran)
    return ran
