"""Racing claimers on PostgreSQL: ETA tasks and sweeps at once, no deadlock, one send per row."""

import random
import threading

import pytest
from django.apps import apps
from django.db import connection, transaction

from delivery import outbox
from delivery.models import Delivery, DeliveryStatus
from incidents.defaults import seed_defaults
from oncall.notifications import services
from tests.incidents.factories import declare

from .factories import page_message, webhook_method

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_tasks_and_sweeps_racing_send_each_row_once(require_postgres, receiver, responder, settings):
    seed_defaults(apps)
    settings.DELIVERY_SWEEP_GRACE_SECONDS = 0
    incident = declare(by=responder)
    webhook_method(responder, f"{receiver.url}/race", rate_limit_count=1000)
    webhook_method(responder, f"{receiver.url}/race2", rate_limit_count=1000)
    ids = []
    for i in range(15):
        with transaction.atomic():
            ids += [r.pk for r in services.notify_user(user=responder, message=page_message(incident, f"n{i}"), dedup_key=f"k{i}")]
    errors = []
    start = threading.Barrier(6)

    def run(work):
        try:
            start.wait()
            work()
        except Exception as exc:  # a deadlock would land here
            errors.append(exc)
        finally:
            connection.close()

    def tasks():
        order = ids[:]
        random.shuffle(order)
        for pk in order:
            outbox.deliver(pk)

    def sweeps():
        for _ in range(10):
            outbox.sweep(paging=True)

    threads = [threading.Thread(target=run, args=(w,)) for w in (tasks, tasks, tasks, tasks, sweeps, sweeps)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert len(receiver.for_path("/race")) == 15 and len(receiver.for_path("/race2")) == 15
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
