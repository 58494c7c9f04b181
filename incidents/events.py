"""Reactions to timeline events, registered by other apps.

`incidents` never imports the apps that react to it. Each service writes its timeline event in
the same transaction as the change; after commit the event id goes to the worker
(`dispatch_event_task`), which calls every subscriber whose kinds match. The event row is the
outbox: `dispatched_at` stays null until every subscriber has run, and the sweep retries it, so
a lost message or a dead worker delays reactions but never drops them. Subscribers must be
idempotent, since the sweep and the fast path may both deliver an event.

    # oncall/apps.py
    def ready(self):
        from incidents.events import subscribe
        subscribe(handlers.on_incident_event, kinds={"declared", "acknowledged", ...})
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subscriber:
    name: str
    handler: Callable
    kinds: frozenset[str] | None  # None: every kind


_subscribers: dict[str, Subscriber] = {}


def subscribe(handler: Callable, *, kinds: Iterable[str] | None = None, name: str | None = None) -> None:
    """Register `handler(event)` for events of `kinds` (all kinds when None). Re-registering the
    same name replaces it, so `ready()` running twice is harmless."""
    key = name or f"{handler.__module__}.{handler.__qualname__}"
    _subscribers[key] = Subscriber(key, handler, frozenset(kinds) if kinds is not None else None)


def subscribers_for(kind: str) -> list[Subscriber]:
    return [s for s in _subscribers.values() if s.kinds is None or kind in s.kinds]


def run_subscribers(event) -> list[str]:
    """Call each matching subscriber; returns the names that failed (they are logged)."""
    failed = []
    for sub in subscribers_for(event.kind):
        try:
            with transaction.atomic():  # a savepoint: one failing subscriber spoils nothing else
                sub.handler(event)
        except Exception:
            logger.exception("subscriber %s failed on event %s (%s)", sub.name, event.pk, event.kind)
            failed.append(sub.name)
    return failed
