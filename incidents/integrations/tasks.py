"""Thin tasks: heartbeat due checks (ETA fast path) and the sweep that is their safety net."""

from celery import shared_task

from .services import heartbeats


@shared_task(ignore_result=True)
def heartbeat_check_task(heartbeat_id: int) -> None:
    heartbeats.heartbeat_check(heartbeat_id=heartbeat_id)


@shared_task(ignore_result=True)
def heartbeat_sweep_task() -> int:
    return heartbeats.heartbeat_sweep()
