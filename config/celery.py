import logging
import os

from celery import Celery, Task, bootsteps
from django.db import InterfaceError, OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

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


class SweepOnConnect(bootsteps.StartStopStep):
    """Each time a worker (re)connects to the broker, it runs the sweeps at once and again a few
    seconds later (past their grace periods), so the work written while the broker was down
    (undispatched events, due escalation steps, pending deliveries) goes out within seconds of
    its return instead of at the scheduler's next tick. Sweeps claim rows with SKIP LOCKED, so
    several workers doing this at once split the work."""

    requires = {"celery.worker.consumer.tasks:Tasks"}
    AGAIN_AFTER_SECONDS = 6

    def start(self, c):
        from django.conf import settings

        sweeps = sorted({entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"].endswith("sweep_task")})
        for countdown in (0, self.AGAIN_AFTER_SECONDS):
            for name in sweeps:
                try:
                    c.app.send_task(name, countdown=countdown)
                except Exception as exc:  # the broker went away again: the scheduler's tick remains
                    logger.warning("could not start %s after connecting (%s)", name, exc)
                    return


app = Celery("portal", task_cls=PortalTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.steps["consumer"].add(SweepOnConnect)
app.autodiscover_tasks()
