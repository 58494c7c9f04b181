"""Process health, readiness and operational metrics."""

import hmac
import logging
import sys
import time

from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CollectorRegistry

from config.celery import app as celery_app
from config.metrics import PortalCollector
from delivery import metrics as delivery_metrics
from delivery.gauges import register_metric

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.warning("readyz: database unreachable: %s", exc)
        return False
    return True


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        logger.warning("readyz: broker unreachable: %s", exc)
        return False
    return True


def _cache_ok() -> bool:
    token = f"{time.time_ns()}"
    try:
        cache.set("readyz", token, 10)
        if cache.get("readyz") == token:  # the cache fails soft: a write that did not land is "down"
            return True
    except Exception as exc:
        logger.warning("readyz: cache unreachable: %s", exc)
    return False


@never_cache
@require_GET
def readyz(request):
    """Each dependency "ok" or "down" (the reason goes to the log, never to the answer);
    503 when one is down. The web keeps accepting alerts while the broker or the cache is down,
    so a load balancer should route by /healthz and alert on /readyz."""
    checks = {"database": _database_ok(), "broker": _broker_ok(), "cache": _cache_ok()}
    ok = all(checks.values())
    body = {"status": "ok" if ok else "unavailable", **{name: "ok" if up else "down" for name, up in checks.items()}}
    return JsonResponse(body, status=200 if ok else 503)


def server_error(request):
    """handler500. The database being unreachable is the portal failing for a while, not a bug:
    503 with Retry-After, a page that says so (JSON under /api/). Anything else: a plain 500 page.
    Rendered without context processors or the database, and never with the exception's text."""
    exc = sys.exc_info()[1]
    unavailable = isinstance(exc, (OperationalError, InterfaceError))
    status = 503 if unavailable else 500
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        message = "The portal cannot reach its database; retry shortly." if unavailable else "Server error."
        response = JsonResponse({"status": status, "code": "unavailable" if unavailable else "server_error",
                                 "message": message}, status=status)
    else:
        response = HttpResponse(render_to_string("503.html" if unavailable else "500.html"), status=status)
    if unavailable:
        response["Retry-After"] = "10"
    return response


for _gauge in delivery_metrics.GAUGES:  # the one outbox's gauges (delivery imports nothing of ours)
    register_metric(*_gauge)
_registry = CollectorRegistry(auto_describe=False)
_registry.register(PortalCollector())


def _metrics_allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@never_cache
@require_GET
def metrics(request):
    if not _metrics_allowed(request):
        return HttpResponse("Authorization: Bearer <METRICS_TOKEN> required.\n", status=401, content_type="text/plain",
                            headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return HttpResponse(generate_latest(_registry), content_type=CONTENT_TYPE_LATEST)
