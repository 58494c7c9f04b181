"""Tests: DATABASE_URL / REDIS_URL when set (CI: PostgreSQL and Redis), SQLite otherwise.

Runs that share a machine (pytest-xdist workers, several checkouts) must not share queues or
cache keys: both are namespaced by PORTAL_TEST_NS and the xdist worker id."""

import os

from kombu import Queue

from config.env import env

from .base import *  # noqa: F403
from .base import DATABASES, VAR_DIR

_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
_ns = f"{env('PORTAL_TEST_NS', default='portal')}-{_worker}"

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
DEBUG = False

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so a worker thread or process sees the same data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{_ns}.sqlite3")}

CELERY_TASK_DEFAULT_QUEUE = f"test-{_ns}"
PAGING_QUEUE = f"paging-{_ns}"
CELERY_TASK_QUEUES = (Queue(CELERY_TASK_DEFAULT_QUEUE), Queue(PAGING_QUEUE))
if not env("CELERY_BROKER_URL", default="") and not env("REDIS_URL", default=""):
    CELERY_BROKER_URL = f"sqla+sqlite:///{VAR_DIR / f'broker-{_ns}.sqlite3'}"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "KEY_PREFIX": _ns}}
if env("REDIS_URL", default=""):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env("REDIS_URL"), "KEY_PREFIX": _ns}}
