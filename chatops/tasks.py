"""Thin tasks of the chat core."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True, acks_late=True)
def pin_to_timeline_task(workspace_id: int, chat_user_id: str, channel_id: str, ts: str) -> None:
    services.pin_to_timeline(workspace_id=workspace_id, chat_user_id=chat_user_id, channel_id=channel_id, ts=ts)
