"""Enqueue this app's tasks by name, so services need not import the task module (which imports
them). A broker that is down only delays the work: the sweeps pick it up."""

import logging
from datetime import datetime

from celery import current_app

logger = logging.getLogger(__name__)
PREFIX = "incidents.statuspage.tasks."


def enqueue(task: str, *, eta: datetime | None = None, **kwargs) -> None:
    try:
        current_app.send_task(PREFIX + task, kwargs=kwargs, eta=eta)
    except Exception as exc:
        logger.warning("could not enqueue %s %s (%s); the sweep will catch up", task, kwargs, exc)
