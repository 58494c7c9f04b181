"""The ingest endpoints: Alertmanager, PagerDuty Events API v2, generic webhook, heartbeat pings.

Plain Django views (no session, no CSRF, no DRF negotiation) so a delivery costs a constant
handful of queries. The order of checks: key (404, nothing revealed), rate limit (429 with
Retry-After), body size (413), JSON and shape (400 naming what is wrong), then one
transaction; the answer is 2xx only after it commits. A database failure answers 503 so
senders that retry on 5xx (Alertmanager) retry; nothing answers 500.

Payloads are untrusted (see `incidents.untrusted` and `parsers.base`): each alert of a delivery
is recorded, its text made safe, or refused by name. A delivery with some alerts recorded
answers 2xx and lists the refused ones under "refused" (a sender re-sending the delivery would
only fail the same way); one with nothing recorded answers 400. 5xx means the portal is failing.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, IntegrityError
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from incidents.exceptions import DomainError

from . import selectors
from .models import Integration, IntegrationKind
from .parsers import alertmanager, pagerduty, webhook
from .parsers.base import Parsed, PayloadError, Refusal, bounded, parse_json
from .services import heartbeats, ingest

logger = logging.getLogger(__name__)

PAGERDUTY_MAX_BODY = 512 * 1024
RATE_WINDOW = 60
ATTEMPTS = 3


class Refused(Exception):
    def __init__(self, status: int, message: str, errors: list[str] | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.errors, self.headers = status, message, errors, headers or {}


def _retry_after(integration: Integration) -> int | None:
    """Fixed one-minute windows counted in the cache; None when under the limit."""
    limit = integration.rate_limit_per_minute
    if not limit:
        return None
    now = time.time()
    key = f"ingest-rate:{integration.public_id.hex}:{int(now // RATE_WINDOW)}"
    try:
        cache.add(key, 0, timeout=RATE_WINDOW + 5)
        count = cache.incr(key)
    except Exception as exc:  # the cache being down must not refuse alerts
        logger.warning("rate limit check failed (%s); accepting", exc)
        return None
    if count > limit:
        return int(RATE_WINDOW - now % RATE_WINDOW) + 1
    return None


def _read(request, limit: int) -> bytes:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Refused(400, "Bad Content-Length.") from None
    if declared > limit:
        raise Refused(413, f"The body is larger than {limit} bytes.")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise Refused(413, f"The body is larger than {limit} bytes.")
    return body


def _ingest(integration: Integration, alerts) -> ingest.IngestResult:
    if not alerts:
        return ingest.IngestResult()
    for attempt in range(ATTEMPTS):
        try:
            return ingest.alerts_ingest(integration=integration, alerts=alerts)
        except IntegrityError as exc:  # a concurrent delivery won a race on a unique row: run again
            logger.info("ingest race on integration %s (%s), attempt %s", integration.pk, exc, attempt + 1)
        except DatabaseError as exc:
            logger.warning("ingest failed on integration %s: %s", integration.pk, exc)
            if attempt == ATTEMPTS - 1:
                break
        except DomainError as exc:  # e.g. the default severity was deactivated: a setup problem
            logger.error("ingest refused by a rule on integration %s: %s", integration.pk, exc.message)
            raise Refused(503, f"The integration cannot open incidents: {exc.message}", headers={"Retry-After": "60"}) from None
    raise Refused(503, "Temporarily unable to store the alert; retry.", headers={"Retry-After": "5"})


def _guard(integration: Integration | None) -> Integration:
    if integration is None:
        raise Refused(404, "Not found.")
    retry = _retry_after(integration)
    if retry is not None:
        raise Refused(429, "Rate limit exceeded for this integration.", headers={"Retry-After": str(retry)})
    return integration


@dataclass(frozen=True)
class KeyedEndpoint:
    kind: str
    parse: Callable[..., Parsed]  # (data, integration)


def _refuse_excess(parsed: Parsed) -> None:
    """A delivery holds at most INGEST_MAX_ALERTS alerts (each costs a few queries, and a request
    must end well within the proxy's timeout); the rest are refused by name."""
    limit = settings.INGEST_MAX_ALERTS
    for alert in parsed.alerts[limit:]:
        parsed.refused.append(Refusal(alert.index, [
            f"alerts[{alert.index}]: more than {limit} alerts in one delivery (Alertmanager: set max_alerts in webhook_configs)."]))
    del parsed.alerts[limit:]


def _respond(status: int, body: dict, headers: dict | None = None) -> JsonResponse:
    response = JsonResponse(body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _keyed(endpoint: KeyedEndpoint):
    @csrf_exempt
    def view(request, key: str):
        if request.method != "POST":
            return _respond(405, {"status": "error", "message": "Use POST."}, {"Allow": "POST"})
        try:
            integration = _guard(selectors.integration_by_key(key, endpoint.kind))
            body = _read(request, settings.INGEST_MAX_BODY_BYTES)
            try:
                parsed = endpoint.parse(parse_json(body), integration)
            except PayloadError as exc:
                raise Refused(400, exc.message, exc.errors) from None
            _refuse_excess(parsed)
            result = _ingest(integration, parsed.alerts)
            refused = sorted(parsed.refused + result.refused, key=lambda r: r.index)
            if refused and not (result.accepted or result.dropped):
                errors = [e for r in refused for e in r.errors]
                raise Refused(400, errors[0], errors)
        except Refused as exc:
            body = {"status": "error", "message": exc.message}
            if exc.errors:
                body["errors"] = exc.errors
            return _respond(exc.status, body, exc.headers)
        except Exception:
            logger.exception("unexpected ingest failure")
            return _respond(503, {"status": "error", "message": "Temporarily unable to store the alert; retry."}, {"Retry-After": "5"})
        return _respond(200, {
            "status": "ok", "alerts": result.accepted, "dropped": result.dropped,
            "incidents_opened": [i.number for i in result.opened],
            "refused": [{"index": r.index, "errors": r.errors} for r in refused],
        })

    view.__name__ = f"{endpoint.kind}_ingest"
    return view


alertmanager_ingest = _keyed(KeyedEndpoint(IntegrationKind.ALERTMANAGER, lambda data, _i: alertmanager.parse(data)))
webhook_ingest = _keyed(KeyedEndpoint(
    IntegrationKind.WEBHOOK, lambda data, i: webhook.parse(data, mapping=i.mapping, resolved_values=i.resolved_values),
))


def _pd(status: int, status_text: str, message: str, errors: list[str] | None = None, headers=None, **extra) -> JsonResponse:
    body = {"status": status_text, "message": message, **extra}
    if errors is not None:
        body["errors"] = errors
    return _respond(status, body, headers)


@csrf_exempt
def pagerduty_enqueue(request):
    """PagerDuty Events API v2: 202 {"status": "success", "message": "Event processed",
    "dedup_key": ...}; 400 {"status": "invalid event", "message": ..., "errors": [...]}."""
    if request.method != "POST":
        return _pd(405, "error", "Method not allowed", headers={"Allow": "POST"})
    try:
        body = _read(request, min(PAGERDUTY_MAX_BODY, settings.INGEST_MAX_BODY_BYTES))
        try:
            data = parse_json(body)
            key = pagerduty.routing_key(data)
        except PayloadError as exc:
            return _pd(400, "invalid event", "Event object is invalid", exc.errors)
        integration = _guard(selectors.integration_by_key(key, IntegrationKind.PAGERDUTY))
        try:
            alerts = pagerduty.parse(data).alerts
        except PayloadError as exc:
            return _pd(400, "invalid event", exc.message, exc.errors)
        result = _ingest(integration, alerts)
        if result.refused:
            return _pd(400, "invalid event", "Event object is invalid", result.refused[0].errors)
    except Refused as exc:
        text = {404: "not found", 413: "request too large", 429: "throttle event", 503: "error"}.get(exc.status, "error")
        return _pd(exc.status, text, exc.message, exc.errors, exc.headers)
    except Exception:
        logger.exception("unexpected ingest failure")
        return _pd(503, "error", "Temporarily unable to store the event; retry.", headers={"Retry-After": "5"})
    return _pd(202, "success", "Event processed", dedup_key=bounded(alerts[0]).fingerprint)


@csrf_exempt
def heartbeat_ping(request, key: str):
    """GET, HEAD or POST from a cron job or a probe: the heartbeat is alive."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse("Use GET or POST.\n", status=405, content_type="text/plain", headers={"Allow": "GET, HEAD, POST"})
    integration = selectors.integration_by_key(key, IntegrationKind.HEARTBEAT)
    if integration is None:
        return HttpResponse("Not found.\n", status=404, content_type="text/plain")
    retry = _retry_after(integration)
    if retry is not None:
        return HttpResponse("Rate limit exceeded.\n", status=429, content_type="text/plain", headers={"Retry-After": str(retry)})
    try:
        heartbeats.heartbeat_ping(integration=integration)
    except DatabaseError as exc:
        logger.warning("heartbeat ping failed: %s", exc)
        return HttpResponse("Temporarily unavailable.\n", status=503, content_type="text/plain", headers={"Retry-After": "5"})
    return HttpResponse("OK\n", content_type="text/plain")
