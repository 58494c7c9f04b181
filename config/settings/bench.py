"""Benchmarks: the environment's database and broker (PostgreSQL and Redis when set), with a
database of their own so a bench run never touches the portal's data."""

import os

from kombu import Queue

from .base import *  # noqa: F403
from .base import DATABASES, VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
DEBUG = False
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["NAME"] = str(VAR_DIR / "bench.sqlite3")
else:
    DATABASES["default"]["NAME"] = f"{DATABASES['default']['NAME']}_bench"
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("BENCH_CELERY_QUEUE", "bench")  # a run may take a queue of its own
PAGING_QUEUE = f"{CELERY_TASK_DEFAULT_QUEUE}-paging"
CELERY_TASK_QUEUES = (Queue(CELERY_TASK_DEFAULT_QUEUE), Queue(PAGING_QUEUE))
BENCH_TRIVIAL_VIEW = True  # statuspage rows: the trivial baseline view
