"""Settings for a worker subprocess in the integration tests: the test settings, the test
database, and SMTP to the test's local server (port from the environment)."""

import os

from config.settings.test import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ.get("ONCALL_TEST_SMTP_PORT", "25"))
EMAIL_USE_TLS = EMAIL_USE_SSL = False
EMAIL_HOST_USER = EMAIL_HOST_PASSWORD = ""
ONCALL_SWEEP_SECONDS = 1.0
CELERY_BEAT_SCHEDULE["oncall-escalation-sweep"]["schedule"] = 1.0  # noqa: F405
