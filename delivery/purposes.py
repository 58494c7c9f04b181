"""The registry of purposes: who composes what leaves the portal, and how it is sent.

Each app registers its purposes in `AppConfig.ready()`:

    from delivery.purposes import Purpose, register
    register(Purpose(
        name="paging",                       # Delivery.purpose
        destination=paging.destination,      # row -> Destination (real target, secret), or None: gone
        compose=paging.compose,              # row -> Message | None (None: nothing left to say: cancelled)
        cancel_reason=paging.cancel_reason,  # row -> "" or why a pending row must not go out now
        lock=paging.lock,                    # (row, from_sweep) -> False when the sweep must skip it
        fold=paging.fold,                    # (row, now) -> digest row it was folded into, or None
        after_sent=..., after_failed=...,    # follow-up rows (next digest; fallback, marking)
        paging=True,                         # send on the paging queue
    ))

Every hook gets the `Delivery` row and runs in the worker; `cancel_reason`, `lock` and `fold`
run inside the claim's transaction, the others outside any transaction. Hooks return the
follow-up rows they created, which the outbox enqueues.

Per-purpose settings (`settings.DELIVERY_PURPOSES[name]`, over `DELIVERY_DEFAULTS`):
`max_attempts`, `lease_seconds` (a row left "sending" this long is taken back: its worker
died), `retry_base_seconds`, `retry_max_seconds` (backoff base * 2^(attempt-1), capped), `retry_after_max_seconds` (the most a
receiver's `Retry-After` may delay a retry)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from . import durable
from .channels import Destination
from .messages import Message


def stored_message(row) -> Message | None:
    return Message.from_dict(row.message)


def never(row) -> str:
    return ""


@dataclass(frozen=True)
class Purpose:
    name: str
    destination: Callable[..., Destination | None]
    compose: Callable[..., Message | None] = stored_message
    cancel_reason: Callable[..., str] = never
    lock: Callable[..., bool] | None = None
    fold: Callable[..., object] | None = None
    after_sent: Callable[..., list] | None = None
    after_failed: Callable[..., list] | None = None
    paging: bool = False
    label: str = ""

    def setting(self, key: str):
        own = settings.DELIVERY_PURPOSES.get(self.name, {})
        return own[key] if key in own else settings.DELIVERY_DEFAULTS[key]

    @property
    def max_attempts(self) -> int:
        return int(self.setting("max_attempts"))

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.setting("lease_seconds"))

    @property
    def queue(self) -> str | None:
        return settings.PAGING_QUEUE if self.paging else None

    def backoff(self, attempts: int) -> timedelta:
        return durable.backoff(attempts, self.setting("retry_base_seconds"), self.setting("retry_max_seconds"))

    def retry_at(self, now: datetime, attempts: int, retry_after: float | None = None) -> datetime:
        """When a failed row is tried again: after the receiver's `Retry-After` when it sent one
        (a 429; bounded by `retry_after_max_seconds`, so a hostile or broken answer cannot park
        a row for a year), else after the exponential backoff."""
        if retry_after is not None:
            return now + timedelta(seconds=min(max(float(retry_after), 0.0), self.setting("retry_after_max_seconds")))
        return now + self.backoff(attempts)


_registry: dict[str, Purpose] = {}


def register(purpose: Purpose) -> Purpose:
    _registry[purpose.name] = purpose
    return purpose


def get(name: str) -> Purpose | None:
    return _registry.get(name)


def registered() -> list[Purpose]:
    return list(_registry.values())
