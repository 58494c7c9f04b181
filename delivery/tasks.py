"""Thin Celery tasks of the outbox: send one row (the fast path), send a row the sweep claimed,
and the sweep itself (the safety net, on the paging queue: paging never waits behind others)."""

import logging

from celery import shared_task
from django.utils.dateparse import parse_datetime

from . import outbox, purposes

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, acks_late=True)
def delivery_send_task(delivery_id: int) -> None:
    outbox.enqueue(outbox.deliver(delivery_id))


@shared_task(ignore_result=True, acks_late=True)
def delivery_send_claimed_task(delivery_id: int, claimed_at: str) -> None:
    outbox.enqueue(outbox.send_claimed_fenced(delivery_id, parse_datetime(claimed_at)))


@shared_task(ignore_result=True)
def delivery_sweep_task() -> int:
    """Send due rows the fast path missed, each by a task of its own on its purpose's queue, so
    one slow receiver holds up only its own send; if the broker refuses, the sweep sends inline
    (the claim-time fence stops doubles)."""
    claimed, follow_up = outbox.sweep_claim()
    for row in claimed:
        purpose = purposes.get(row.purpose)
        if not delivery_send_claimed_task.send_now(delivery_id=row.pk, claimed_at=row.claimed_at.isoformat(),
                                                   queue=purpose.queue if purpose else None):
            follow_up += outbox.send_claimed_fenced(row.pk, row.claimed_at)
    outbox.enqueue(follow_up)
    return len(claimed)
