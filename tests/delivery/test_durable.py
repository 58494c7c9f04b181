"""The durable-task base: after commit, one ETA horizon, broker refusals left to the sweep."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from delivery.durable import LateTask
from delivery.tasks import delivery_send_task


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(delivery_send_task, "apply_async", lambda **kw: calls.append(kw))
    return calls


@pytest.mark.django_db(transaction=True)
def test_enqueue_waits_for_the_commit_and_sends_nothing_on_rollback(sent):
    with transaction.atomic():
        delivery_send_task.enqueue(delivery_id=1)
        assert sent == []
    assert [c["kwargs"] for c in sent] == [{"delivery_id": 1}]
    try:
        with transaction.atomic():
            delivery_send_task.enqueue(delivery_id=2)
            raise RuntimeError
    except RuntimeError:
        pass
    assert [c["kwargs"] for c in sent] == [{"delivery_id": 1}]


@pytest.mark.django_db(transaction=True)
def test_work_beyond_the_horizon_is_left_to_the_sweep(sent, settings):
    settings.DURABLE_ETA_HORIZON_SECONDS = 60
    soon, late = timezone.now() + timedelta(seconds=30), timezone.now() + timedelta(seconds=120)
    delivery_send_task.enqueue_many([({"delivery_id": 1}, soon), ({"delivery_id": 2}, late)], queue="q")
    assert sent == [{"kwargs": {"delivery_id": 1}, "eta": soon, "queue": "q"}]


@pytest.mark.django_db(transaction=True)
def test_a_refusing_broker_stops_the_batch_and_hands_back_the_rest(monkeypatch):
    tried = []

    def down(**kw):
        tried.append(kw)
        raise ConnectionError("broker down")

    monkeypatch.setattr(delivery_send_task, "apply_async", down)
    refused = []
    delivery_send_task.enqueue_many([({"delivery_id": n}, None) for n in (1, 2, 3)], on_refused=refused.extend)
    assert len(tried) == 1  # stopped at the first refusal
    assert refused == [{"delivery_id": 1}, {"delivery_id": 2}, {"delivery_id": 3}]


def test_an_unbound_late_task_refuses_loudly():
    later = LateTask("nothing")
    with pytest.raises(RuntimeError, match="no task bound"):
        later.enqueue(x=1)


def test_every_late_task_of_the_apps_is_bound():
    from chatops import services as chatops
    from delivery import outbox
    from incidents.integrations.services import heartbeats as integrations
    from incidents.statuspage import queue as statuspage
    from oncall.services import escalation, handoff

    for later in (outbox.send_task, integrations.heartbeat_check_later, statuspage.maintenance_step_later,
                  escalation.step_fire_later, handoff.handoff_send_later, chatops.pin_later):
        assert later.task is not None, later.what
