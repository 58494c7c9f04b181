"""Paging first, and alone: each subscriber of a timeline event runs in a task of its own (its
own outbox row, its own retry), and the pager's tasks use a queue of their own. A subscriber
that raises or hangs delays nobody else (real worker on the configured broker)."""

import threading
import time as clock

import pytest
from django.conf import settings

from incidents import events
from incidents.models import EventDelivery, EventDeliveryStatus, TimelineEvent
from incidents.tasks import dispatch_sweep_task, paging_dispatch_sweep_task
from oncall.notifications.services import contact_method_create
from tests.incidents.factories import declare

from .conftest import Condition, TargetKind, make_policy, person
from .test_worker import wait_until


@pytest.fixture
def paged(transactional_db, receiver, service):
    alice = person("alice")
    contact_method_create(user=alice, kind="webhook", target=f"{receiver.url}/hooks/alice", rate_limit_count=1000)
    make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, alice)])], service=service)
    return alice


@pytest.fixture
def hostile_subscribers():
    """Registered before the pager (as the status page and postmortems are): one raises,
    one hangs until released."""
    release = threading.Event()
    calls = {"broken": 0, "slow": 0}

    def broken(event):
        calls["broken"] += 1
        raise RuntimeError("the status page's mail server is on fire")

    def slow(event):
        calls["slow"] += 1
        release.wait(30)

    saved = dict(events._subscribers)
    events._subscribers.clear()
    events.subscribe(broken, kinds={"declared"}, name="test.broken")
    events.subscribe(slow, kinds={"declared"}, name="test.slow")
    events._subscribers.update(saved)
    try:
        yield calls, release
    finally:
        release.set()
        events._subscribers.pop("test.broken", None)
        events._subscribers.pop("test.slow", None)


def test_the_pager_subscribes_on_the_paging_queue():
    pager = events._subscribers["oncall.escalation"]
    assert pager.queue == settings.PAGING_QUEUE
    assert settings.PAGING_QUEUE != settings.CELERY_TASK_DEFAULT_QUEUE
    # A worker started without -Q (make run, the test subprocesses) consumes both.
    assert {q.name for q in settings.CELERY_TASK_QUEUES} == {settings.CELERY_TASK_DEFAULT_QUEUE, settings.PAGING_QUEUE}


def test_declaring_writes_one_outbox_row_per_subscriber_in_the_same_transaction(paged, service, hostile_subscribers):
    incident = declare(services=[service])  # no worker: nothing consumes the messages
    event = incident.timeline.get(kind="declared")
    rows = {d.subscriber: d for d in EventDelivery.objects.filter(event=event)}
    assert {"test.broken", "test.slow", "oncall.escalation"} <= set(rows)
    assert all(d.status == "pending" and d.attempts == 0 for d in rows.values())


@pytest.mark.worker
def test_a_failing_and_a_hanging_subscriber_do_not_delay_the_page(paged, service, hostile_subscribers, celery_worker, receiver):
    calls, release = hostile_subscribers
    started = clock.monotonic()
    incident = declare(services=[service])
    receiver.wait_for(1, path="/hooks/alice", timeout=10)
    took = clock.monotonic() - started
    assert took < 8, f"the page took {took:.1f} s behind the other subscribers"  # the slow one holds on for 30 s
    wait_until(lambda: calls["broken"] >= 1 and calls["slow"] == 1, what="the other two subscribers to have started")

    event = incident.timeline.get(kind="declared")
    rows = {d.subscriber: d for d in EventDelivery.objects.filter(event=event)}
    assert rows["oncall.escalation"].status == "done"
    broken = rows["test.broken"]
    assert broken.status == "pending" and broken.attempts >= 1 and "on fire" in broken.last_error
    assert rows["test.slow"].status == "pending"  # still running: the page never waited for it
    event.refresh_from_db()
    assert event.dispatched_at is None  # not every subscriber has run yet

    release.set()
    wait_until(lambda: EventDelivery.objects.get(pk=rows["test.slow"].pk).status == "done", what="the slow subscriber to finish")


def test_sweep_retries_only_the_failing_subscriber(paged, service, hostile_subscribers, receiver):
    calls, release = hostile_subscribers
    release.set()
    incident = declare(services=[service])
    event = incident.timeline.get(kind="declared")
    EventDelivery.objects.filter(event=event).update(next_try_at=event.created_at)  # the fast path was lost
    ran = []
    handler = events._subscribers["oncall.escalation"]
    events.subscribe(lambda e: ran.append(e.pk) or handler.handler(e), kinds=handler.kinds, name="oncall.escalation",
                     queue=handler.queue)
    try:
        events.delivery_run(EventDelivery.objects.get(event=event, subscriber="oncall.escalation").pk)
        events.delivery_run(EventDelivery.objects.get(event=event, subscriber="test.slow").pk)
        events.delivery_run(EventDelivery.objects.get(event=event, subscriber="test.broken").pk)
        assert calls == {"broken": 1, "slow": 1} and ran == [event.pk]
        # The broken one waits for its backoff; the others are done and never run again.
        broken = EventDelivery.objects.get(event=event, subscriber="test.broken")
        EventDelivery.objects.filter(pk=broken.pk).update(next_try_at=event.created_at)
        for row in EventDelivery.objects.filter(event=event, status="pending"):
            events.delivery_run(row.pk)
        assert calls == {"broken": 2, "slow": 1} and ran == [event.pk]
        assert EventDelivery.objects.get(pk=broken.pk).attempts == 2
    finally:
        events.subscribe(handler.handler, kinds=handler.kinds, name=handler.name, queue=handler.queue)


def test_running_a_delivery_twice_runs_the_subscriber_once(paged, service):
    incident = declare(services=[service])
    event = incident.timeline.get(kind="declared")
    row = EventDelivery.objects.get(event=event, subscriber="oncall.escalation")
    assert events.delivery_run(row.pk) is True
    assert events.delivery_run(row.pk) is None  # already done: nothing
    assert incident.escalations.count() == 1


def test_the_pagers_rows_are_swept_on_the_paging_pool_and_the_others_on_the_default_one(paged, service, monkeypatch):
    from incidents import tasks

    sent = []
    monkeypatch.setattr(tasks.event_subscriber_task, "apply_async", lambda **kw: sent.append(kw))
    incident = declare(services=[service])
    event = incident.timeline.get(kind="declared")
    sent.clear()  # the fast path's messages (lost)
    EventDelivery.objects.filter(event=event).update(next_try_at=event.created_at)
    n = EventDelivery.objects.filter(event=event).count()
    assert dispatch_sweep_task() == n - 1  # everyone but the pager
    assert EventDelivery.objects.get(event=event, subscriber="oncall.escalation").status == EventDeliveryStatus.PENDING
    assert paging_dispatch_sweep_task() == 1
    assert incident.escalations.count() == 1
    assert dispatch_sweep_task() == paging_dispatch_sweep_task() == 0 and sent == []
    assert "incidents.tasks.paging_dispatch_sweep_task" in settings.PAGING_TASKS


def test_sweep_fans_out_events_written_before_the_outbox_rows_existed(paged, service):
    incident = declare(services=[service])
    event = incident.timeline.get(kind="declared")
    EventDelivery.objects.filter(event=event).delete()  # an event from before the upgrade
    TimelineEvent.objects.filter(pk=event.pk).update(created_at=event.created_at.replace(year=2020))
    dispatch_sweep_task()
    assert EventDelivery.objects.filter(event=event, subscriber="oncall.escalation").exists()
