"""The outbox: events reach subscribers through a real worker, and the sweep catches up."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import events
from incidents.models import EventDelivery
from incidents.tasks import dispatch_event_task, dispatch_sweep_task, event_subscriber_task, paging_dispatch_sweep_task

from .factories import declare

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorder():
    seen = []
    done = threading.Event()

    def handler(event):
        seen.append((event.pk, event.kind))
        done.set()

    events.subscribe(handler, kinds={"declared"}, name="test-recorder")
    yield seen, done
    events._subscribers.pop("test-recorder", None)


@pytest.mark.worker
def test_declared_event_reaches_subscriber_through_real_worker(celery_worker, recorder, responder):
    seen, done = recorder
    incident = declare(by=responder)
    assert done.wait(15), "the worker never ran the subscriber"
    event = incident.timeline.get()
    assert seen == [(event.pk, "declared")]
    for _ in range(50):
        event.refresh_from_db()
        if event.dispatched_at:
            break
        threading.Event().wait(0.1)
    assert event.dispatched_at is not None


def test_dispatch_twice_runs_subscribers_once(recorder, responder):
    seen, _ = recorder
    incident = declare(by=responder)
    event = incident.timeline.get()
    dispatch_event_task(event.pk)
    dispatch_event_task(event.pk)
    assert seen == [(event.pk, "declared")]


def test_sweep_runs_the_events_the_fast_path_lost_itself_and_sends_no_message(recorder, responder, monkeypatch):
    seen, _ = recorder
    sent = []
    monkeypatch.setattr(event_subscriber_task, "apply_async", lambda **kw: sent.append(kw["kwargs"]["delivery_id"]))
    incident = declare(by=responder)  # the fast path's messages are lost
    event = incident.timeline.get()
    sent.clear()
    assert dispatch_sweep_task() == 0  # too fresh: the fast path still has its grace period
    EventDelivery.objects.filter(event=event).update(next_try_at=timezone.now() - timedelta(seconds=1))
    rows = EventDelivery.objects.filter(event=event).exclude(subscriber__in=_paging_subscribers()).count()
    assert dispatch_sweep_task() == rows
    assert dispatch_sweep_task() == 0  # done: nothing left
    assert sent == []  # the sweep did the work; it sent no second message
    assert paging_dispatch_sweep_task() == len(_paging_subscribers() & set(event.deliveries.values_list("subscriber", flat=True)))
    for pk in EventDelivery.objects.filter(event=event).values_list("pk", flat=True):
        event_subscriber_task(pk)  # the lost messages, arriving late after all
    assert seen == [(event.pk, "declared")]
    event.refresh_from_db()
    assert event.dispatched_at is not None


def _paging_subscribers() -> set[str]:
    from incidents import events

    return {s.name for s in events._subscribers.values() if s.queue is not None}


def test_failing_subscriber_leaves_event_for_retry(responder):
    calls = []

    def broken(event):
        calls.append(event.pk)
        raise RuntimeError("boom")

    events.subscribe(broken, name="test-broken")
    try:
        incident = declare(by=responder)
        event = incident.timeline.get()
        dispatch_event_task(event.pk)
        event.refresh_from_db()
        assert event.dispatched_at is None and calls == [event.pk]
    finally:
        events._subscribers.pop("test-broken", None)
