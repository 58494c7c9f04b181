"""Thin Celery tasks: load ids, call one service. Each is safe to run twice."""

from celery import shared_task

from delivery.outbox import send_inline

from .services import escalation as engine
from .services import handoff


@shared_task(ignore_result=True, acks_late=True)
def step_fire_task(step_id: int) -> bool:
    """The fast path: fired at the step's due time (ETA). The sweep covers a lost message."""
    with send_inline():  # the pages go out from here, not behind other queued tasks
        return engine.step_fire(step_id=step_id)


@shared_task(ignore_result=True)
def escalation_sweep_task() -> int:
    return engine.sweep()


@shared_task(ignore_result=True, acks_late=True)
def handoff_send_task(handoff_id: int) -> bool:
    return handoff.handoff_send(handoff_id=handoff_id)


@shared_task(ignore_result=True)
def handoff_sweep_task() -> int:
    handoff.handoffs_plan()
    return handoff.sweep()
