"""Thin Celery tasks of the outbox: send one row (the fast path) and the sweeps (the safety net,
one per pool: the paging queue's purposes on the paging pool, so paging never waits behind
others, and every other purpose on the default pool)."""

import logging

from celery import shared_task

from . import outbox

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, acks_late=True)
def delivery_send_task(delivery_id: int) -> None:
    outbox.enqueue(outbox.deliver(delivery_id))


@shared_task(ignore_result=True)
def delivery_sweep_task() -> int:
    """Send, here, the paging queue's due rows the fast path missed (settings.PAGING_TASKS)."""
    return outbox.sweep(paging=True)


@shared_task(ignore_result=True)
def delivery_default_sweep_task() -> int:
    """Send, here, every other purpose's due rows the fast path missed."""
    return outbox.sweep(paging=False)
