"""Read paths of alert ingestion."""

import hmac

from django.db.models import Count, Max, Q

from incidents.models import Incident

from .models import Alert, AlertStatus, Integration, Runbook, hash_key


def integration_by_key(key: str, kind: str) -> Integration | None:
    """The active integration of `kind` holding `key`, or None. Keys are looked up by their
    SHA-256 (never stored in clear) and the stored digest is compared in constant time."""
    if not isinstance(key, str) or not key or len(key) > 200:
        return None
    digest = hash_key(key)
    integration = (
        Integration.objects.select_related("service", "default_severity", "repeat_severity")
        .filter(key_hash=digest, revoked_at__isnull=True)
        .first()
    )
    if integration is None or not hmac.compare_digest(integration.key_hash, digest) or integration.kind != kind:
        return None
    return integration


def integration_list():
    return (
        Integration.objects.select_related("service", "default_severity")
        .annotate(
            open_alerts=Count("alerts", filter=~Q(alerts__status=AlertStatus.RESOLVED)),
            last_alert_at=Max("alerts__last_seen_at"),
        )
        .order_by("service__name", "name")
    )


def integration_detail(public_id) -> Integration:
    return Integration.objects.select_related("service", "default_severity", "repeat_severity", "heartbeat").get(public_id=public_id)


def recent_alerts(integration: Integration, limit: int = 20):
    return integration.alerts.select_related("incident").order_by("-last_seen_at", "-pk")[:limit]


def alert_queryset():
    return Alert.objects.select_related("integration__service", "incident")


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
