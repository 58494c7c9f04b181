"""Production: secrets and hosts must come from the environment; HTTPS everywhere.

The default of every entry point but manage.py (config/wsgi.py, asgi.py, celery.py). Importing it
fails with ImproperlyConfigured, naming the setting, when the deployment is unsafe."""

from django.core.exceptions import ImproperlyConfigured

from config.env import env

from .base import *  # noqa: F403
from .base import DATABASES, DEV_SECRET_KEY, TRUSTED_PROXIES

SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY or SECRET_KEY == DEV_SECRET_KEY or SECRET_KEY.startswith("django-insecure-") or len(SECRET_KEY) < 32:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 32 characters in production (it signs sessions, "
        "acknowledge and unsubscribe links). Generate one: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
if env.bool("DEBUG", default=False):
    raise ImproperlyConfigured("DEBUG must be off in production: unset DEBUG (debug pages show settings and code to anyone).")
DEBUG = False
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the host names the portal is served under, e.g. ALLOWED_HOSTS=incidents.example.com")

# X-Forwarded-Proto is believed only from TRUSTED_PROXIES (incidents.clientip drops it otherwise).
if TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Database connections are kept (and checked before reuse, CONN_HEALTH_CHECKS): a new
# PostgreSQL connection per request and per task starts a server process each time, about 5 ms
# of CPU, ten times for each alert of a storm (measured: `make chaos`).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
