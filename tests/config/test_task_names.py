"""Celery beat and the worker's reconnect kick name tasks by string (that is how beat is
configured): every such name must be a task the worker has, so a renamed or deleted task fails
here instead of being dropped as "unregistered" by the worker at run time."""

from django.conf import settings

from config.celery import app


def test_every_task_named_in_settings_is_registered():
    app.loader.import_default_modules()
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} | set(settings.SWEEPS_ON_CONNECT)
    missing = sorted(name for name in names if name not in app.tasks)
    assert not missing, missing
    assert "delivery.tasks.delivery_sweep_task" in names  # the one outbox's safety net is scheduled
