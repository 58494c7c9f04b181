"""The one outbox: create, claim, send, back off, reclaim, sweep `Delivery` rows.

    row = outbox.create(purpose="paging", channel="email", target=masked, dedup_key=key,
                        destination_id=method.pk, message=message, incident_id=..., user=...,
                        step=0, due_at=now)          # None: the key was used already
    outbox.enqueue_on_commit([row])                 # the fast path, after commit
    with outbox.send_inline(): ...                  # rows due now go out from this thread

- `claim` (pending -> sending) takes a due row by compare-and-set, after the purpose's `lock`;
  it cancels the row instead when the purpose's `cancel_reason` says so, and folds it when the
  purpose's `fold` hands back a digest.
- `send_claimed` composes (purpose), resolves the destination (purpose) and sends (channel);
  then sent, or pending again after the purpose's backoff (or after the receiver's `Retry-After`,
  on every attempt that carries one), or failed for good (a permanent
  ChannelError or the last attempt), which calls the purpose's `after_failed`.
- `sweep` (the beat's safety net, one per pool) takes back rows left "sending" longer than their
  purpose's lease, then claims and sends, itself, the due rows the fast path missed.
- Every function returns the follow-up rows (a digest, a fallback, a retry) it made due; the
  caller passes them to `enqueue`.

Sending happens outside any transaction, bounded by the channel's timeouts; no database lock is
held while a receiver is slow.
"""

import hashlib
import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from . import durable, purposes, safetext
from .channels import ChannelError, channel_class, channel_for, registered_kinds
from .durable import LateTask
from .messages import Message
from .models import Delivery, DeliveryStatus

logger = logging.getLogger(__name__)
S = DeliveryStatus

ERROR_LIMIT = 2000  # characters of an error or a receiver's answer kept on the row
KEY_MAX = Delivery._meta.get_field("dedup_key").max_length

# Bound by DeliveryConfig.ready() to delivery.tasks.delivery_send_task (which imports this module).
send_task = LateTask("delivery send")


# --- creating --------------------------------------------------------------------------------


def bounded_key(key: str) -> str:
    """Dedup keys fit the column; a longer one keeps its head and a digest of the whole."""
    if len(key) <= KEY_MAX:
        return key
    return f"{key[:KEY_MAX - 41]}~{hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()}"


def create(*, purpose: str, channel: str, target: str, dedup_key: str, message: Message | dict,
           destination_id: int = 0, step: int = 0, kind: str = "", due_at: datetime | None = None,
           incident_id: int | None = None, user=None, max_attempts: int | None = None) -> Delivery | None:
    """Insert one pending row (in the caller's transaction, under a savepoint); None when its
    (purpose, dedup key, destination, step) was used already."""
    registered = purposes.get(purpose)
    if registered is None:
        raise LookupError(f"No delivery purpose {purpose!r} registered")
    if isinstance(message, Message):
        message = message.as_dict()
    try:
        with transaction.atomic():
            return Delivery.objects.create(
                purpose=purpose, channel=channel, target=safetext.line(target, 2000), dedup_key=bounded_key(dedup_key),
                message=safetext.json_safe(message), destination_id=destination_id, step=step, kind=kind,
                due_at=due_at or timezone.now(), incident_id=incident_id, user=user,
                max_attempts=max_attempts or registered.max_attempts,
            )
    except IntegrityError:
        return None


# --- the fast path -----------------------------------------------------------------------------

_inline = threading.local()


@contextmanager
def send_inline():
    """Inside this block (a worker task such as the escalation step, the pager's reaction), rows
    due now are sent by this thread right after the commit instead of through a second broker
    message. Measured: with 1,000 steps due in 20 s, the delivery tasks queued behind the steps'
    ETA tasks (the pool stays full of them) and the pages went out only once the steps ran dry,
    20-40 s late. A slow receiver cannot hold the others' pages for long: once one commit's sends
    have taken `settings.DELIVERY_INLINE_BUDGET_SECONDS`, its remaining rows go to the workers."""
    previous = getattr(_inline, "on", False)
    _inline.on = True
    try:
        yield
    finally:
        _inline.on = previous


def enqueue(rows) -> None:
    """Hand rows to the workers (after commit; rows due beyond the ETA horizon wait for the sweep)."""
    calls = []
    for row in rows:
        purpose = purposes.get(row.purpose)
        calls.append(({"delivery_id": row.pk}, row.due_at, purpose.queue if purpose else None))
    send_task.enqueue_many(calls)


def _send_now(rows: list[Delivery]) -> None:
    now = timezone.now()
    deadline = time.monotonic() + settings.DELIVERY_INLINE_BUDGET_SECONDS
    for n, row in enumerate(rows):
        if time.monotonic() >= deadline:
            enqueue(rows[n:])
            return
        if row.due_at is not None and row.due_at > now:
            enqueue([row])
            continue
        try:
            enqueue(deliver(row.pk, row=row))
        except Exception:  # the row is committed: the task (or the sweep) sends it
            logger.exception("delivery %s: inline send failed; queued instead", row.pk)
            enqueue([row])


def enqueue_on_commit(rows) -> None:
    """After commit: send the rows (inline, see `send_inline`) or queue them for the workers."""
    rows = [r for r in rows if r is not None]
    if not rows:
        return
    if getattr(_inline, "on", False):
        transaction.on_commit(lambda: _send_now(rows))
    else:
        enqueue(rows)


# --- claim, send, finish -------------------------------------------------------------------------


@dataclass
class Claim:
    row: Delivery | None = None
    follow_up: list = field(default_factory=list)


def claim(delivery_id: int, now: datetime | None = None, *, from_sweep: bool = False, row: Delivery | None = None) -> Claim:
    """Take a due pending row for sending (compare-and-set). The purpose's `lock` runs first (a
    task may wait for it; the sweep, which already holds row locks, must not: `from_sweep`
    asks it to skip a busy destination). Then the purpose may cancel or fold the row.

    `row`: the caller's own copy of a row it has just committed (inline sending)."""
    now = now or timezone.now()
    with transaction.atomic():
        if row is None:
            row = Delivery.objects.select_related("incident", "user").filter(pk=delivery_id).first()
            if row is None:
                return Claim()
        purpose = purposes.get(row.purpose)
        if purpose is None:
            logger.error("delivery %s: no purpose %r registered in this process; left pending", row.pk, row.purpose)
            return Claim()
        if purpose.lock is not None and not purpose.lock(row, from_sweep):
            return Claim()
        taken = Delivery.objects.filter(pk=row.pk, status=S.PENDING, due_at__lte=now).update(status=S.SENDING, claimed_at=now)
        if not taken:
            return Claim()
        row.status, row.claimed_at = S.SENDING, now
        reason = purpose.cancel_reason(row)
        if reason:
            _held(row).update(status=S.CANCELLED, error=safetext.text(reason, ERROR_LIMIT))
            return Claim()
        if purpose.fold is not None:
            folded = purpose.fold(row, now)
            if folded is not None:
                digest, why = folded
                _held(row).update(status=S.FOLDED, digest=digest, error=why)
                return Claim(follow_up=[digest])
        return Claim(row=row)


def _held(row: Delivery):
    """The row as long as this worker's claim holds: a claim taken back (its lease ran out) and
    taken again by another worker moved `claimed_at`, and the late finisher records nothing."""
    return Delivery.objects.filter(pk=row.pk, status=S.SENDING, claimed_at=row.claimed_at)


def send_claimed(row: Delivery) -> list:
    """Send a row this worker claimed and record the outcome. Returns follow-up rows."""
    purpose = purposes.get(row.purpose)
    try:
        message = purpose.compose(row)
        if message is None:
            _held(row).update(status=S.CANCELLED, error="Nothing to send.")
            return []
        destination = purpose.destination(row)
        if destination is None:
            _held(row).update(status=S.CANCELLED, error="The destination is gone.")
            return []
        receipt = channel_for(row.channel, replace(destination, message_id=row.message_id)).send(message)
    except ChannelError as exc:
        return _failed(row, purpose, exc)
    except Exception as exc:  # a bug or an unexpected library error: retry like a transient failure
        logger.exception("delivery %s: unexpected error", row.pk)
        return _failed(row, purpose, ChannelError(f"{type(exc).__name__}: {exc}"))
    _held(row).update(
        status=S.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1, response_code=receipt.status_code,
        response=safetext.text(receipt.response, ERROR_LIMIT), error="",
    )
    if purpose.after_sent is not None:
        return purpose.after_sent(row, receipt) or []
    return []


def _failed(row: Delivery, purpose, exc: ChannelError) -> list:
    attempts = row.attempts + 1
    error = safetext.text(exc.message, ERROR_LIMIT) or type(exc).__name__
    fields = {"attempts": attempts, "error": error, "response_code": exc.status_code,
              "response": safetext.text(exc.response, ERROR_LIMIT)}
    if exc.permanent or attempts >= row.max_attempts:
        with transaction.atomic():
            if not _held(row).update(status=S.FAILED, **fields):
                return []  # recorded already (a duplicate task): its hook ran then
            logger.warning("delivery %s (%s) failed for good after %s attempt(s): %s", row.pk, row.purpose, attempts,
                           safetext.line(error, 300))
            row.status, row.attempts, row.error = S.FAILED, attempts, error
            if purpose.after_failed is not None:
                return purpose.after_failed(row, error) or []
            return []
    due = purpose.retry_at(timezone.now(), attempts, retry_after=exc.retry_after)
    if exc.retry_after is not None:
        fields["error"] = safetext.text(f"{error} (retry after {int(exc.retry_after)} s, as the receiver asked)", ERROR_LIMIT)
    _held(row).update(status=S.PENDING, due_at=due, **fields)
    row.due_at = due
    return [row]


def deliver(delivery_id: int, *, row: Delivery | None = None) -> list:
    """Claim and send one row (the task's work, or inline with the caller's fresh `row`).
    Returns follow-up rows."""
    taken = claim(delivery_id, row=row)
    if taken.row is None:
        return taken.follow_up
    return taken.follow_up + send_claimed(taken.row)


# --- the safety net --------------------------------------------------------------------------------


def reclaim_stale(now: datetime | None = None) -> int:
    """Rows left "sending" longer than their lease (the worker died mid-send, or the database
    went away between the claim and the finish) are pending again, due now.

    The lease is the purpose's `lease_seconds` for channels whose receivers drop a re-send by
    its message id (`Channel.idempotent`: Standard Webhooks' `webhook-id`); for the others it is
    at least `live_send_seconds`, longer than any live send takes, so a slow send in progress
    is never sent a second time."""
    now = now or timezone.now()
    default_lease = timedelta(seconds=settings.DELIVERY_DEFAULTS["lease_seconds"])
    shortest = min([p.lease for p in purposes.registered()] + [default_lease])
    if not Delivery.objects.filter(status=S.SENDING, claimed_at__lt=now - shortest).exists():
        return 0  # the usual case, in one indexed query (every sweep, every two seconds, on both pools)
    idempotent = [kind for kind in registered_kinds() if channel_class(kind).idempotent]
    live = timedelta(seconds=settings.DELIVERY_DEFAULTS["live_send_seconds"])
    moved = 0
    names = []
    for purpose in purposes.registered():
        names.append(purpose.name)
        stale = Delivery.objects.filter(purpose=purpose.name, status=S.SENDING)
        moved += stale.filter(channel__in=idempotent, claimed_at__lt=now - purpose.lease).update(status=S.PENDING, due_at=now)
        moved += stale.exclude(channel__in=idempotent).filter(claimed_at__lt=now - max(purpose.lease, live)).update(
            status=S.PENDING, due_at=now)
    default = max(default_lease, live)
    moved += Delivery.objects.filter(status=S.SENDING, claimed_at__lt=now - default).exclude(purpose__in=names).update(
        status=S.PENDING, due_at=now)
    return moved


def sweep(*, paging: bool, now: datetime | None = None, budget: float | None = None) -> int:
    """The safety net of the paging queue's purposes (`paging=True`, run on the paging pool) or
    of the others: take back stale claims, then claim and send here, row by row, the due rows
    the fast path missed (delivery.durable.drain). A backlog of status-page or reminder mail
    never takes a missed page's place: it is the other pool's. Returns how many rows it sent."""
    reclaim_stale(now)
    names = [p.name for p in purposes.registered() if p.paging == paging]
    grace = timedelta(seconds=settings.DELIVERY_SWEEP_GRACE_SECONDS)

    def candidates(tried: set[int]) -> list[int]:
        due = Delivery.objects.filter(status=S.PENDING, purpose__in=names, due_at__lte=(now or timezone.now()) - grace)
        return list(due.exclude(pk__in=tried).order_by("due_at").values_list("pk", flat=True)[:settings.DELIVERY_SWEEP_BATCH])

    def run(pk: int) -> bool:
        taken = claim(pk, now=now, from_sweep=True)
        follow_up = taken.follow_up
        if taken.row is not None:
            follow_up += send_claimed(taken.row)
        enqueue(follow_up)
        return taken.row is not None

    return durable.drain(candidates, run, budget=budget)


# --- operator actions --------------------------------------------------------------------------------


@transaction.atomic
# --- what the far end reports after a send (SMS and call status callbacks) ------------------------


def report_status(delivery_id: int, status: str) -> None:
    """Record the latest status the far end reported for a sent row (kept in `response`)."""
    Delivery.objects.filter(pk=delivery_id, status=S.SENT).update(response=safetext.line(status, ERROR_LIMIT))


def report_failure(delivery_id: int, error: str) -> list:
    """The far end says a sent row did not arrive after all (an undelivered SMS, an unanswered
    call): sent -> failed by compare-and-set, then the purpose's `after_failed`, once. Returns
    the follow-up rows (enqueue them)."""
    error = safetext.text(error, ERROR_LIMIT)
    with transaction.atomic():
        if not Delivery.objects.filter(pk=delivery_id, status=S.SENT).update(status=S.FAILED, error=error, response=error):
            return []  # not sent, or reported already
        row = Delivery.objects.select_related("incident", "user").get(pk=delivery_id)
        purpose = purposes.get(row.purpose)
        if purpose is not None and purpose.after_failed is not None:
            return purpose.after_failed(row, error) or []
    return []


def retry(pks) -> int:
    """Put failed rows back in the queue with a fresh set of attempts, due now."""
    now = timezone.now()
    rows = list(Delivery.objects.filter(pk__in=pks, status=S.FAILED))
    n = Delivery.objects.filter(pk__in=[r.pk for r in rows], status=S.FAILED).update(
        status=S.PENDING, due_at=now, attempts=0, error="")
    for row in rows:
        row.due_at = now
    enqueue_on_commit(rows)
    return n


@transaction.atomic
def reopen(queryset, *, due_at: datetime | None = None) -> list[Delivery]:
    """The cancelled rows of `queryset` pending again, due at `due_at` (default now), with a fresh
    set of attempts: the same message planned again (a postmortem's owner changed back, say).
    Compare-and-set; the caller hands the rows to `enqueue_on_commit`."""
    due_at = due_at or timezone.now()
    rows = list(queryset.filter(status=S.CANCELLED))
    reopened = []
    for row in rows:
        if Delivery.objects.filter(pk=row.pk, status=S.CANCELLED).update(status=S.PENDING, due_at=due_at, attempts=0, error=""):
            row.status, row.due_at, row.attempts, row.error = S.PENDING, due_at, 0, ""
            reopened.append(row)
    return reopened


def cancel(queryset, reason: str) -> int:
    """Cancel the pending rows of `queryset` (compare-and-set: a row being sent is not touched)."""
    return queryset.filter(status=S.PENDING).update(status=S.CANCELLED, error=safetext.text(reason, ERROR_LIMIT))


def undelivered(now: datetime | None = None):
    """Rows past their due time and not sent yet (pending, or stuck sending)."""
    now = now or timezone.now()
    return Delivery.objects.filter(Q(status=S.PENDING) | Q(status=S.SENDING), due_at__lte=now)
