"""The one durable-task base (DESIGN.md, durable work): every Celery task of the portal is a
`DurableTask` (config.celery makes it the app's task class), and every "hand this to a worker
once the transaction commits, or leave it to the sweep" goes through `Task.enqueue`.

    step_fire_task.enqueue(step_id=step.pk, eta=step.due_at)

- After commit: inside a transaction the message is sent once it commits (nothing is sent for
  work that rolled back); outside one, at once.
- One ETA horizon, `settings.DURABLE_ETA_HORIZON_SECONDS`: work due later than that is not sent
  at all; its row waits for the sweep (a far-future ETA message is redelivered by Redis after the
  visibility timeout, and a restarted broker may lose it anyway).
- Broker down: the refusal is logged, `on_refused` (if given) is called with the keyword
  arguments of every call that was not sent, and the row's sweep catches up. Never raises.
- `enqueue_many(calls)` sends a batch in order and stops at the first refusal (the broker is
  down: trying each of a thousand messages would only add timeouts).
- Tasks run again on a new connection when the database is briefly unreachable (autoretry on
  OperationalError / InterfaceError, after 1 s then every 2 s, about 20 s in all; after that
  the row is its sweep's): they are idempotent by construction.
- Every sweep is `drain(candidates, run)`: it does the missed work itself, row by row, in the
  worker it runs in, for at most `settings.DURABLE_SWEEP_BUDGET_SECONDS`. It never sends a second
  message for a row whose first one may only be waiting in a busy queue: with leases and re-sent
  messages, a backlog longer than the lease looked like lost work, every sweep added a copy of
  every waiting message, and the queue grew faster than the workers drained it (measured in
  `make chaos`: 777 of 1,000 pages never sent). Pulling, the sweep is one more worker on the
  same rows; each row's claim (a compare-and-set or SKIP LOCKED) lets only one of them run it,
  and the message that arrives later finds nothing to do.

Tasks are always referenced by import. Where the module that enqueues cannot import the task
(the task's module imports it: a service enqueues the task that calls the service), it holds a
`LateTask` that the app binds in `AppConfig.ready()`:

    # services.py                              # apps.py, ready()
    heartbeat_check = LateTask("heartbeat check")   services.heartbeat_check.bind(tasks.heartbeat_check_task)
    heartbeat_check.enqueue(heartbeat_id=pk, eta=due)

An unbound `LateTask` raises at enqueue time (a test catches it), never sends by name.

This module imports nothing of the portal's apps (it is the bottom layer).
"""

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from celery import Task
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


def horizon() -> datetime:
    """Work due after this is the sweep's, not an ETA message's."""
    return timezone.now() + timedelta(seconds=settings.DURABLE_ETA_HORIZON_SECONDS)


def within_horizon(eta: datetime | None) -> bool:
    return eta is None or eta <= horizon()


def backoff(attempts: int, base_seconds: float, max_seconds: float) -> timedelta:
    """The one retry formula: base * 2^(attempts-1), capped (every outbox of the portal)."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), max_seconds))


def drain(candidates: Callable[[set[int]], list[int]], run: Callable[[int], bool], *,
          budget: float | None = None) -> int:
    """Run missed work here until none is left or `budget` seconds have passed (default
    `settings.DURABLE_SWEEP_BUDGET_SECONDS`). `candidates(tried)` returns the ids of rows due now,
    most overdue first, leaving out `tried`; `run(pk)` claims and does one (True when it did,
    False when another worker had it or it was no longer due). Returns how many it did."""
    deadline = time.monotonic() + (settings.DURABLE_SWEEP_BUDGET_SECONDS if budget is None else budget)
    tried: set[int] = set()
    done = 0
    while time.monotonic() < deadline:
        ids = candidates(tried)
        if not ids:
            break
        for pk in ids:
            if time.monotonic() >= deadline:
                break
            tried.add(pk)
            done += bool(run(pk))
    return done


class DurableTask(Task):
    # The database is briefly away (a restart, a failover): try again every second or two, so a
    # task resumes within two seconds of its return (measured in `make chaos`: a doubling wait
    # put the retry that outlasts a 4-second restart at +7 s), for about twenty seconds; after
    # that the row is its sweep's.
    autoretry_for = (OperationalError, InterfaceError)
    retry_backoff = 1
    retry_backoff_max = 2
    retry_jitter = False
    max_retries = 10

    def send_now(self, *, eta: datetime | None = None, queue: str | None = None, **kwargs) -> bool:
        """Send one message now (no transaction wait). False when the broker refused it."""
        options = {"kwargs": kwargs}
        if eta is not None and eta > timezone.now():
            options["eta"] = eta
        if queue:
            options["queue"] = queue
        try:
            self.apply_async(**options)
        except Exception as exc:  # broker down: the row is in the database, the sweep does it
            logger.warning("could not enqueue %s %s (%s); the sweep will do it", self.name, kwargs, exc)
            return False
        return True

    def enqueue_many(self, calls: Iterable[tuple], *, queue: str | None = None,
                     on_refused: Callable[[list[dict]], None] | None = None) -> None:
        """After commit, send `(kwargs, eta)` or `(kwargs, eta, queue)` calls due within the
        horizon, in order (`queue`: the default for calls that name none); at the first refusal
        stop and hand the kwargs of the rest to `on_refused`."""
        calls = [(c[0], c[1], c[2] if len(c) > 2 else queue) for c in calls if within_horizon(c[1])]
        if not calls:
            return

        def send():
            for n, (kwargs, eta, to) in enumerate(calls):
                if not self.send_now(eta=eta, queue=to, **kwargs):
                    if on_refused is not None:
                        on_refused([k for k, _eta, _to in calls[n:]])
                    return

        transaction.on_commit(send)

    def enqueue(self, *, eta: datetime | None = None, queue: str | None = None,
                on_refused: Callable[[list[dict]], None] | None = None, **kwargs) -> None:
        """After commit, one message (at `eta`, if it is within the horizon)."""
        self.enqueue_many([(kwargs, eta)], queue=queue, on_refused=on_refused)


class LateTask:
    """A task referenced by a module its own module imports; bound in AppConfig.ready()."""

    def __init__(self, what: str):
        self.what = what
        self.task: DurableTask | None = None

    def bind(self, task: DurableTask) -> None:
        self.task = task

    def _bound(self) -> DurableTask:
        if self.task is None:
            raise RuntimeError(f"{self.what}: no task bound (bind it in AppConfig.ready())")
        return self.task

    def enqueue(self, **kwargs) -> None:
        self._bound().enqueue(**kwargs)

    def enqueue_many(self, calls, **kwargs) -> None:
        self._bound().enqueue_many(calls, **kwargs)
