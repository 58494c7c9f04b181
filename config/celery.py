import logging
import os

from celery import Celery, Task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from config.worker import KickSweepsOnConnect

# Production unless told otherwise: only manage.py (make run, make test) defaults to development.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

logger = logging.getLogger(__name__)


class PortalTask(Task):
    """The base of every task. Tasks are idempotent (they re-read state and act by
    compare-and-set), so when the database cannot be reached (PostgreSQL restarting, a
    connection cut) the task simply runs again 1, 2, 4... seconds later on a new connection,
    instead of failing and leaving the work to the next sweep."""

    autoretry_for = (OperationalError, InterfaceError)
    retry_backoff = 1
    retry_backoff_max = 8
    retry_jitter = False
    max_retries = 6


app = Celery("portal", task_cls=PortalTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.steps["consumer"].add(KickSweepsOnConnect)  # see config.worker


def route_task(name, args, kwargs, options, task=None, **kw):
    """CELERY_TASK_ROUTES: the pager's tasks (settings.PAGING_TASKS) go to settings.PAGING_QUEUE;
    everything else to the default queue. Read at publish time, so test settings apply."""
    if name in settings.PAGING_TASKS:
        return {"queue": settings.PAGING_QUEUE}
    return None
