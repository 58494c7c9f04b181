"""Read paths of alert ingestion."""

import hmac
import time

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Q

from incidents.models import Incident
from incidents.models.incident import visible_through

from .models import Alert, AlertStatus, Integration, Runbook, hash_key

# key digest -> (when read, integration). Only active integrations are kept, for
# INGEST_KEY_CACHE_SECONDS: a revoked or rotated key stops working in every process within
# that time (at once in the process that revoked it); a new key works at once everywhere.
_by_digest: dict[str, tuple[float, Integration]] = {}
_CACHE_MAX = 10_000


def forget_integrations() -> None:
    _by_digest.clear()


def integration_by_key(key: str, kind: str) -> Integration | None:
    """The active integration of `kind` holding `key`, or None. Keys are looked up by their
    SHA-256 (never stored in clear) and the stored digest is compared in constant time."""
    if not isinstance(key, str) or not key or len(key) > 200:
        return None
    digest = hash_key(key)
    ttl = settings.INGEST_KEY_CACHE_SECONDS
    now = time.monotonic()
    hit = _by_digest.get(digest)
    if ttl and hit and now - hit[0] < ttl:
        integration = hit[1]
    else:
        integration = _read_by_digest(digest)
        if ttl and integration is not None:
            if len(_by_digest) >= _CACHE_MAX:
                _by_digest.clear()
            _by_digest[digest] = (now, integration)
    if integration is None or not hmac.compare_digest(integration.key_hash, digest) or integration.kind != kind:
        return None
    return integration


def _read_by_digest(digest: str) -> Integration | None:
    # No joins: the service and severities are loaded only when an alert opens an incident.
    # The hottest query of the portal: written out, so it costs no ORM compilation per delivery.
    table = connection.ops.quote_name(Integration._meta.db_table)
    found = list(Integration.objects.raw(
        f"SELECT * FROM {table} WHERE key_hash = %s AND revoked_at IS NULL LIMIT 1", [digest],  # noqa: S608 - a model's table
    ))
    return found[0] if found else None


def integration_list():
    return (
        Integration.objects.filter(archived_at__isnull=True).select_related("service", "default_severity")
        .annotate(
            open_alerts=Count("alerts", filter=~Q(alerts__status=AlertStatus.RESOLVED)),
            last_alert_at=Max("alerts__last_seen_at"),
        )
        .order_by("service__name", "name")
    )


def integration_detail(public_id) -> Integration:
    return Integration.objects.select_related("service", "default_severity", "repeat_severity", "heartbeat").get(public_id=public_id)


def recent_alerts(integration: Integration, viewer, limit: int = 20):
    return visible_through(integration.alerts, viewer).select_related("incident").order_by("-last_seen_at", "-pk")[:limit]


def alert_queryset(viewer):
    """Alerts, less those of incidents `viewer` may not see."""
    return visible_through(Alert.objects, viewer).select_related("integration__service", "incident")


def incident_alerts(incident: Incident, limit: int = 50) -> list[Alert]:
    return list(Alert.objects.filter(incident=incident).select_related("integration").order_by("first_seen_at", "pk")[:limit])


def runbooks_for(incident: Incident, alerts: list[Alert]) -> tuple[list[tuple[Runbook, str]], list[str]]:
    """The runbooks that apply to an incident, each with why: linked to one of its services,
    matching an alert's labels, or named by an alert's `runbook_url` annotation. Also the
    runbook URLs from annotations that match no stored runbook (shown as plain links)."""
    found: dict[int, tuple[Runbook, str]] = {}
    service_ids = [s.pk for s in incident.services.all()]
    for runbook in Runbook.objects.filter(services__in=service_ids).distinct():
        found[runbook.pk] = (runbook, "service")
    urls = {a.runbook_url for a in alerts if a.runbook_url}
    labelled = Runbook.objects.exclude(match_labels={})
    if urls:
        labelled = Runbook.objects.filter(~Q(match_labels={}) | Q(url__in=urls))
    unmatched = set(urls)
    for runbook in labelled:
        if runbook.url and runbook.url in urls:
            found[runbook.pk] = (runbook, "runbook_url")
            unmatched.discard(runbook.url)
        elif any(runbook.matches_labels(a.labels) for a in alerts):
            found.setdefault(runbook.pk, (runbook, "labels"))
    if unmatched:  # a runbook_url pointing at the portal's own runbook page (or ending in its id)
        for runbook in Runbook.objects.all():
            for url in [u for u in unmatched if u.rstrip("/").endswith(runbook.identifier)]:
                found[runbook.pk] = (runbook, "runbook_url")
                unmatched.discard(url)
    return sorted(found.values(), key=lambda x: x[0].identifier), sorted(unmatched)
