import logging
import os

from celery import Celery
from django.conf import settings

from config.worker import KickSweepsOnConnect

# Production unless told otherwise: only manage.py (make run, make test) defaults to development.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

logger = logging.getLogger(__name__)


# Every task is a delivery.durable.DurableTask: `.enqueue()` after commit within the one ETA
# horizon (the sweeps do the rest), and a rerun when the database is briefly unreachable.
app = Celery("portal", task_cls="delivery.durable:DurableTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.steps["consumer"].add(KickSweepsOnConnect)  # see config.worker


def route_task(name, args, kwargs, options, task=None, **kw):
    """CELERY_TASK_ROUTES: the pager's tasks (settings.PAGING_TASKS) go to settings.PAGING_QUEUE;
    everything else to the default queue. Read at publish time, so test settings apply."""
    if name in settings.PAGING_TASKS:
        return {"queue": settings.PAGING_QUEUE}
    return None
