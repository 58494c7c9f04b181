import os

from celery import Celery, Task
from django.db import InterfaceError, OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")


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
