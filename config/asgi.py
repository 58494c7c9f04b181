import os

from django.core.asgi import get_asgi_application

# Production unless told otherwise: only manage.py (make run, make test) defaults to development.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_asgi_application()
