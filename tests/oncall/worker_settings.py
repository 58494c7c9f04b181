"""Settings for a worker subprocess in the integration tests: the test settings, the test
database, and SMTP to the test's local server (port from the environment)."""

import os

from kombu import Queue

from config.settings.test import *  # noqa: F403
from config.settings.test import CELERY_TASK_DEFAULT_QUEUE, PAGING_QUEUE

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ.get("ONCALL_TEST_SMTP_PORT", "25"))
EMAIL_USE_TLS = EMAIL_USE_SSL = False
EMAIL_HOST_USER = EMAIL_HOST_PASSWORD = ""
ONCALL_SWEEP_SECONDS = 1.0
CELERY_BEAT_SCHEDULE["oncall-escalation-sweep"]["schedule"] = 1.0  # noqa: F405
# Both queues of this process's namespace (PORTAL_TEST_NS may differ from the test's own).
CELERY_TASK_QUEUES = (Queue(CELERY_TASK_DEFAULT_QUEUE), Queue(PAGING_QUEUE))
