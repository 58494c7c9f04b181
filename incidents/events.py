"""Reactions to timeline events, registered by other apps, each run on its own.

`incidents` never imports the apps that react to it. Each service writes its timeline event in
the same transaction as the change, and with it one outbox row (`EventDelivery`) per subscriber
whose kinds match. After commit each row goes to a task of its own, on the subscriber's queue
(the pager's is `PAGING_QUEUE`), so a slow or failing reaction holds up nobody else. A row that
fails is retried with backoff on its own; the sweeps (one per queue, `sweep`) run themselves
what a lost message or a dead worker left behind (delivery.durable.drain: they never send a
second message). `TimelineEvent.dispatched_at` is set once no row of the event is pending.
Subscribers must be idempotent: a row runs once per success (a locked compare-and-set), but a
worker killed mid-way runs it again.

    # oncall/apps.py
    def ready(self):
        from incidents.events import subscribe
        subscribe(handlers.on_incident_event, kinds={"declared", ...}, queue=settings.PAGING_QUEUE)
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from delivery import durable

from .models import EventDelivery, EventDeliveryStatus, TimelineEvent

logger = logging.getLogger(__name__)

# The fast path gets this long before a sweep may run a row itself (settings.EVENTS_SWEEP_GRACE_SECONDS).
def sweep_grace() -> timedelta:
    return timedelta(seconds=settings.EVENTS_SWEEP_GRACE_SECONDS)


SWEEP_BATCH = 50  # rows a sweep reads at a time


@dataclass(frozen=True)
class Subscriber:
    name: str
    handler: Callable
    kinds: frozenset[str] | None  # None: every kind
    queue: str | None = None  # None: the default queue


_subscribers: dict[str, Subscriber] = {}


def subscribe(handler: Callable, *, kinds: Iterable[str] | None = None, name: str | None = None,
              queue: str | None = None) -> None:
    """Register `handler(event)` for events of `kinds` (all kinds when None), run by tasks on
    `queue`. Re-registering the same name replaces it, so `ready()` running twice is harmless.

    The sweep of `queue` (`sweep(queue)`, run by that queue's workers) runs what a lost message
    left behind, so the pager's reactions never wait for the default pool either.
    """
    key = name or f"{handler.__module__}.{handler.__qualname__}"
    _subscribers[key] = Subscriber(key, handler, frozenset(kinds) if kinds is not None else None, queue)


def subscribers_for(kind: str) -> list[Subscriber]:
    return [s for s in _subscribers.values() if s.kinds is None or kind in s.kinds]


def queue_of(subscriber: str) -> str | None:
    sub = _subscribers.get(subscriber)
    return sub.queue if sub else None


def deliveries_create(event: TimelineEvent, now: datetime | None = None, *, fresh: bool = False) -> list[EventDelivery]:
    """The event's outbox rows, one per matching subscriber (in the caller's transaction), the
    ones on a queue of their own (the pager's) first. An event nobody subscribes to is
    dispatched at once. Idempotent; `fresh`: the event was just written, so no row exists yet
    (one INSERT, no read-back)."""
    now = now or timezone.now()
    subs = sorted(subscribers_for(event.kind), key=lambda s: s.queue is None)
    if not subs:
        TimelineEvent.objects.filter(pk=event.pk, dispatched_at__isnull=True).update(dispatched_at=now)
        return []
    rows = [EventDelivery(event=event, subscriber=s.name, next_try_at=now + sweep_grace()) for s in subs]
    if fresh:
        return EventDelivery.objects.bulk_create(rows)
    EventDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    made = {d.subscriber: d for d in EventDelivery.objects.filter(event=event, status=EventDeliveryStatus.PENDING)}
    return [made[s.name] for s in subs if s.name in made]


def deliveries_due_now(ids: list[int]) -> None:
    """Rows whose message the broker refused: the sweep may send them as soon as it runs."""
    try:
        EventDelivery.objects.filter(pk__in=ids, status=EventDeliveryStatus.PENDING).update(next_try_at=timezone.now())
    except Exception:  # the database is away too: they keep their grace time
        logger.exception("could not mark %s outbox row(s) due", len(ids))


def events_skip(event_ids: list[int], now: datetime | None = None) -> None:
    """History, not news (the demo's past incidents): mark the events dispatched and their
    pending rows done without running any subscriber."""
    now = now or timezone.now()
    EventDelivery.objects.filter(event_id__in=event_ids, status=EventDeliveryStatus.PENDING).update(
        status=EventDeliveryStatus.DONE, done_at=now, last_error="skipped: history, not news")
    TimelineEvent.objects.filter(pk__in=event_ids, dispatched_at__isnull=True).update(dispatched_at=now)


def retry_delay(attempts: int) -> timedelta:
    return durable.backoff(attempts, settings.EVENTS_RETRY_BASE_SECONDS, settings.EVENTS_RETRY_MAX_SECONDS)


def _mark_dispatched_if_done(event_id: int, now: datetime) -> None:
    # Lock the event first, so two rows finishing at once cannot both see the other pending.
    if TimelineEvent.objects.select_for_update().filter(pk=event_id, dispatched_at__isnull=True).exists():
        pending = EventDelivery.objects.filter(event_id=event_id, status=EventDeliveryStatus.PENDING)
        if not pending.exists():
            TimelineEvent.objects.filter(pk=event_id, dispatched_at__isnull=True).update(dispatched_at=now)


def delivery_run(delivery_id: int, now: datetime | None = None) -> bool | datetime | None:
    """Run one subscriber for one event, if its row is still pending and nobody else holds it.

    True: done. A datetime: it failed and waits until then (or failed for good: the row says
    so). None: nothing to do (done, failed for good, gone, or another worker holds it)."""
    with transaction.atomic():
        row = (EventDelivery.objects.select_for_update(skip_locked=True, of=("self",))
               .select_related("event__incident").filter(pk=delivery_id, status=EventDeliveryStatus.PENDING).first())
        if row is None:
            return None
        sub = _subscribers.get(row.subscriber)
        try:
            if sub is None:
                raise LookupError(f"no subscriber named {row.subscriber!r} in this process")
            with transaction.atomic():  # a savepoint: what the subscriber wrote goes if it fails
                sub.handler(row.event)
        except Exception as exc:
            logger.exception("subscriber %s failed on event %s (%s)", row.subscriber, row.event_id, row.event.kind)
            attempts = row.attempts + 1
            now = now or timezone.now()
            retry_at = now + retry_delay(attempts)
            final = attempts >= settings.EVENTS_MAX_ATTEMPTS
            EventDelivery.objects.filter(pk=row.pk, status=EventDeliveryStatus.PENDING).update(
                attempts=attempts, next_try_at=retry_at, last_error=f"{type(exc).__name__}: {exc}"[:2000],
                status=EventDeliveryStatus.FAILED if final else EventDeliveryStatus.PENDING)
            if final:
                _mark_dispatched_if_done(row.event_id, now)
                return None
            return retry_at
        now = now or timezone.now()
        EventDelivery.objects.filter(pk=row.pk, status=EventDeliveryStatus.PENDING).update(
            status=EventDeliveryStatus.DONE, done_at=now, attempts=row.attempts + 1)
        _mark_dispatched_if_done(row.event_id, now)
        return True


def sweep(queue: str | None = None, *, budget: float | None = None) -> int:
    """The safety net of `queue`'s subscribers (None: the default queue's): run here, one by one,
    the pending rows past their next try (a lost message, a killed worker, a failure's retry)
    until none is left or the budget is spent (delivery.durable.drain). A row a task is running
    is locked, and skipped; the message that arrives after the sweep ran its row finds it done.
    The default queue's sweep also writes the rows of events from before the outbox rows
    existed, and closes events whose rows all finished. Returns how many rows it ran."""
    if queue is None:
        _fan_out_stragglers(timezone.now(), 200)
    queued = {s.name for s in _subscribers.values() if s.queue is not None}
    own = {s.name for s in _subscribers.values() if s.queue == queue} if queue is not None else None

    def candidates(tried: set[int]) -> list[int]:
        due = EventDelivery.objects.filter(status=EventDeliveryStatus.PENDING, next_try_at__lte=timezone.now())
        due = due.filter(subscriber__in=own) if own is not None else due.exclude(subscriber__in=queued)
        return list(due.exclude(pk__in=tried).order_by("next_try_at").values_list("pk", flat=True)[:SWEEP_BATCH])

    return durable.drain(candidates, lambda pk: delivery_run(pk) is True, budget=budget)


def _fan_out_stragglers(now: datetime, limit: int) -> None:
    pending = EventDelivery.objects.filter(event=OuterRef("pk"), status=EventDeliveryStatus.PENDING)
    any_row = EventDelivery.objects.filter(event=OuterRef("pk"))
    stragglers = (TimelineEvent.objects.filter(dispatched_at__isnull=True, created_at__lt=now - sweep_grace())
                  .annotate(has_rows=Exists(any_row)).filter(~Exists(pending)).order_by("created_at")[:limit])
    for event in stragglers:
        with transaction.atomic():
            if event.has_rows:
                _mark_dispatched_if_done(event.pk, now)
            else:
                for row in deliveries_create(event, now):
                    EventDelivery.objects.filter(pk=row.pk).update(next_try_at=now)


def run_subscribers(event: TimelineEvent) -> list[str]:
    """Run every pending row of `event` here, one after the other (tests, the shell, messages
    queued before the upgrade). Returns the names that did not finish."""
    if not event.deliveries.exists() and event.dispatched_at is None:
        with transaction.atomic():
            deliveries_create(event)
    unfinished = []
    for row in list(event.deliveries.filter(status=EventDeliveryStatus.PENDING).order_by("pk")):
        if delivery_run(row.pk) is not True:
            unfinished.append(row.subscriber)
    return unfinished
