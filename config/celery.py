import os

from celery import Celery

# Production unless told otherwise: only manage.py (make run, make test) defaults to development.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
