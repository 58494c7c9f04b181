"""The one outbox: create, claim, send, backoff, permanent failure, stale reclaim, sweep,
cancel and fold, through a purpose of the tests' own and a local receiver."""

from datetime import timedelta

import pytest
from django.utils import timezone

from delivery import outbox
from delivery.messages import Message
from delivery.models import Delivery, DeliveryStatus
from delivery.tasks import delivery_default_sweep_task
from tests.conftest import wait_for

S = DeliveryStatus


def _row(**kw):
    fields = {"purpose": "probe", "channel": "webhook", "target": "masked", "dedup_key": "k", "destination_id": 7,
              "message": Message(kind="probe", title="Hello", body="Body")}
    return outbox.create(**{**fields, **kw})


@pytest.mark.django_db
def test_create_is_idempotent_on_its_key(probe):
    assert _row() is not None
    assert _row() is None
    assert _row(step=1) is not None
    assert Delivery.objects.count() == 2


@pytest.mark.django_db
def test_create_refuses_an_unknown_purpose():
    with pytest.raises(LookupError):
        outbox.create(purpose="nobody", channel="email", target="x", dedup_key="k", message={})


@pytest.mark.django_db
def test_deliver_sends_once_with_a_stable_message_id(probe, receiver):
    row = _row()
    outbox.deliver(row.pk)
    outbox.deliver(row.pk)  # a duplicate task: nothing to claim
    row.refresh_from_db()
    assert row.status == S.SENT and row.attempts == 1 and row.response_code == 200
    assert len(receiver.requests) == 1
    assert receiver.requests[0].headers["webhook-id"] == row.message_id
    assert probe.sent == [(row.pk, 200)]


@pytest.mark.django_db
def test_a_429_is_retried_after_its_retry_after_on_every_attempt_bounded(probe, receiver, settings):
    receiver.behaviour["/hook"] = (429, 0, b"slow down", {"Retry-After": "40"})  # longer than the 10 s, 20 s backoff
    row = _row()
    for attempt in (1, 2):
        before = timezone.now()
        outbox.deliver(row.pk)
        row.refresh_from_db()
        assert row.status == S.PENDING and row.attempts == attempt and row.response_code == 429
        assert timedelta(seconds=39) < row.due_at - before < timedelta(seconds=42)
        Delivery.objects.filter(pk=row.pk).update(due_at=timezone.now())
    settings.DELIVERY_DEFAULTS = {**settings.DELIVERY_DEFAULTS, "retry_after_max_seconds": 60}
    receiver.behaviour["/hook"] = (429, 0, b"go away", {"Retry-After": "86400"})
    before = timezone.now()
    outbox.deliver(row.pk)
    row.refresh_from_db()
    assert row.status == S.FAILED  # the third attempt of three: the Retry-After never makes a row live forever
    row = _row(dedup_key="k2")
    outbox.deliver(row.pk)
    row.refresh_from_db()
    assert timedelta(seconds=59) < row.due_at - before < timedelta(seconds=62)  # bounded


@pytest.mark.django_db
def test_a_failure_backs_off_per_purpose_then_fails_for_good(probe, receiver):
    receiver.behaviour["/hook"] = (503, 0)
    row = _row()
    before = timezone.now()
    follow = outbox.deliver(row.pk)
    row.refresh_from_db()
    assert row.status == S.PENDING and row.attempts == 1 and row.response_code == 503
    assert follow == [row]
    assert timedelta(seconds=9) < row.due_at - before < timedelta(seconds=12)  # retry_base_seconds=10
    Delivery.objects.filter(pk=row.pk).update(due_at=timezone.now())
    outbox.deliver(row.pk)
    row.refresh_from_db()
    assert timedelta(seconds=19) < row.due_at - timezone.now() < timedelta(seconds=21)  # 10 * 2
    Delivery.objects.filter(pk=row.pk).update(due_at=timezone.now())
    assert outbox.deliver(row.pk) == []
    row.refresh_from_db()
    assert row.status == S.FAILED and row.attempts == 3  # max_attempts of the purpose
    assert probe.failed == [(row.pk, row.error)]


@pytest.mark.django_db
def test_a_permanent_failure_fails_at_once(probe, receiver):
    receiver.behaviour["/hook"] = (410, 0)
    row = _row()
    outbox.deliver(row.pk)
    row.refresh_from_db()
    assert row.status == S.FAILED and row.attempts == 1
    assert len(probe.failed) == 1


@pytest.mark.django_db
def test_the_purpose_cancels_a_row_that_must_not_go_out(probe, receiver):
    probe.cancel = "Skipped: acknowledged."
    row = _row()
    outbox.deliver(row.pk)
    row.refresh_from_db()
    assert row.status == S.CANCELLED and row.error == "Skipped: acknowledged."
    assert receiver.requests == []


@pytest.mark.django_db
def test_the_purpose_folds_a_row_into_a_digest(probe, receiver):
    digest = _row(dedup_key="digest", due_at=timezone.now() + timedelta(minutes=5))
    probe.fold_into = digest
    row = _row()
    assert outbox.deliver(row.pk) == [digest]
    row.refresh_from_db()
    assert row.status == S.FOLDED and row.digest == digest
    assert receiver.requests == []


@pytest.mark.django_db
def test_the_sweep_skips_a_row_whose_destination_is_busy(probe):
    row = _row(due_at=timezone.now() - timedelta(seconds=5))
    probe.refuse_lock = True
    assert outbox.sweep(paging=False) == 0
    assert probe.locked == [(row.pk, True)]  # tried once, then left to the next sweep
    row.refresh_from_db()
    assert row.status == S.PENDING


@pytest.mark.django_db
def test_stale_sending_rows_come_back_after_their_purpose_lease(probe, receiver):
    now = timezone.now()
    row = _row(due_at=now - timedelta(seconds=30))
    Delivery.objects.filter(pk=row.pk).update(status=S.SENDING, claimed_at=now - timedelta(seconds=3))
    assert outbox.reclaim_stale(now) == 0  # within the 5 s lease: a live send
    Delivery.objects.filter(pk=row.pk).update(claimed_at=now - timedelta(seconds=6))
    assert outbox.reclaim_stale(now) == 1
    outbox.sweep(paging=False, now=now + timedelta(seconds=2))
    row.refresh_from_db()
    assert row.status == S.SENT and len(receiver.requests) == 1


@pytest.mark.django_db
def test_the_sweep_sends_only_rows_past_the_grace_itself_and_the_late_message_finds_nothing(probe, receiver):
    now = timezone.now()
    fresh = _row(dedup_key="fresh", due_at=now)
    due = _row(dedup_key="due", due_at=now - timedelta(seconds=5))
    assert outbox.sweep(paging=False, now=now) == 1
    assert outbox.sweep(paging=False, now=now) == 0  # a second sweep finds nothing due
    assert outbox.deliver(due.pk) == []  # the fast path's message, arriving after the sweep ran the row
    assert len(receiver.requests) == 1
    due.refresh_from_db()
    fresh.refresh_from_db()
    assert (due.status, fresh.status) == (S.SENT, S.PENDING)


@pytest.mark.django_db
def test_inline_sends_hand_the_rest_to_the_workers_once_a_slow_receiver_used_the_budget(
        probe, receiver, monkeypatch, settings, django_capture_on_commit_callbacks):
    """A task that sends its pages itself (send_inline) must not hold the other people's pages
    behind one slow receiver: past the budget, the rows left go to the workers."""
    settings.DELIVERY_INLINE_BUDGET_SECONDS = 0.3
    receiver.behaviour["/hook"] = (200, 0.6)
    queued = []
    monkeypatch.setattr(outbox.send_task, "enqueue_many", lambda calls, **kw: queued.extend(calls))
    with outbox.send_inline(), django_capture_on_commit_callbacks(execute=True):
        rows = [_row(dedup_key=f"page-{i}") for i in range(3)]
        outbox.enqueue_on_commit(rows)
    assert len(receiver.requests) == 1
    assert [kwargs["delivery_id"] for kwargs, _eta, _queue in queued] == [rows[1].pk, rows[2].pk]
    statuses = dict(Delivery.objects.filter(pk__in=[r.pk for r in rows]).values_list("pk", "status"))
    assert statuses == {rows[0].pk: S.SENT, rows[1].pk: S.PENDING, rows[2].pk: S.PENDING}


@pytest.mark.django_db
def test_a_backlog_never_makes_the_sweep_send_a_second_message(probe, receiver, monkeypatch):
    """Measured in `make chaos`: a sweep that re-sent every row older than a lease doubled a
    backlog it took for lost work on each run. The sweep sends no message; it does the work."""
    sent = []
    monkeypatch.setattr(outbox.send_task.task, "apply_async", lambda **kw: sent.append(kw))
    rows = [_row(dedup_key=f"late-{i}", due_at=timezone.now() - timedelta(minutes=5)) for i in range(3)]
    assert outbox.sweep(paging=False) == 3
    assert sent == [] and len(receiver.requests) == 3
    assert {r.status for r in Delivery.objects.filter(pk__in=[r.pk for r in rows])} == {S.SENT}


@pytest.mark.django_db
def test_a_sweep_stops_at_its_budget_and_the_next_goes_on(probe, receiver):
    for i in range(3):
        _row(dedup_key=f"late-{i}", due_at=timezone.now() - timedelta(minutes=5))
    assert outbox.sweep(paging=False, budget=0) == 0
    assert outbox.sweep(paging=False) == 3


@pytest.mark.django_db
def test_retry_puts_failed_rows_back(probe, receiver, django_capture_on_commit_callbacks, monkeypatch):
    receiver.behaviour["/hook"] = (400, 0)
    row = _row()
    outbox.deliver(row.pk)
    sent = []
    monkeypatch.setattr(outbox.send_task.task, "apply_async", lambda **kw: sent.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.retry([row.pk]) == 1
    row.refresh_from_db()
    assert row.status == S.PENDING and row.attempts == 0
    assert [s["kwargs"] for s in sent] == [{"delivery_id": row.pk}]


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_a_row_after_commit(probe, receiver, celery_worker):
    row = _row()
    outbox.enqueue_on_commit([row])
    wait_for(lambda: Delivery.objects.get(pk=row.pk).status == S.SENT, what="sent by the worker")
    assert len(receiver.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sweep_sends_what_the_fast_path_lost(probe, receiver, celery_worker):
    row = _row(due_at=timezone.now() - timedelta(seconds=5))  # never enqueued
    delivery_default_sweep_task.delay()
    wait_for(lambda: Delivery.objects.get(pk=row.pk).status == S.SENT, what="sent by the sweep")
    assert len(receiver.requests) == 1


@pytest.mark.django_db
def test_a_late_finisher_whose_claim_was_taken_back_records_nothing(probe, receiver):
    row = _row()
    mine = outbox.claim(row.pk).row
    later = timezone.now() + timedelta(seconds=10)
    Delivery.objects.filter(pk=row.pk).update(status=S.SENDING, claimed_at=later)  # reclaimed, claimed again elsewhere
    outbox.send_claimed(mine)
    row.refresh_from_db()
    assert (row.status, row.claimed_at, row.attempts) == (S.SENDING, later, 0)  # the new claim's to record
    assert receiver.requests[0].headers["idempotency-key"] == row.message_id  # the receiver can drop the re-send


@pytest.mark.django_db
def test_the_paging_pools_sweep_sends_a_missed_page_and_leaves_the_mail_backlog_to_the_other(probe, receiver, monkeypatch, settings):
    """A backlog of older non-paging rows never takes a missed page's place: it is not even on
    the paging pool's sweep."""
    from dataclasses import replace

    from delivery import purposes

    monkeypatch.setitem(purposes._registry, "probe_page", replace(probe.purpose, name="probe_page", paging=True))
    settings.DELIVERY_PURPOSES = {**settings.DELIVERY_PURPOSES, "probe_page": settings.DELIVERY_PURPOSES["probe"]}
    long_ago = timezone.now() - timedelta(hours=1)
    backlog = [_row(dedup_key=f"mail-{i}") for i in range(5)]
    Delivery.objects.filter(pk__in=[r.pk for r in backlog]).update(due_at=long_ago)
    page = _row(purpose="probe_page", dedup_key="page")
    Delivery.objects.filter(pk=page.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    assert outbox.sweep(paging=True) == 1
    assert Delivery.objects.get(pk=page.pk).status == S.SENT
    assert set(Delivery.objects.filter(pk__in=[r.pk for r in backlog]).values_list("status", flat=True)) == {S.PENDING}
    assert outbox.sweep(paging=False) == 5
