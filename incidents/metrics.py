"""The core's Prometheus gauges (see config.metrics)."""

from django.db.models import Count

from .models import Incident, IncidentStatus, TimelineEvent


def open_incidents():
    rows = Incident.objects.exclude(status=IncidentStatus.RESOLVED).values("severity__key").annotate(n=Count("pk"))
    return [((r["severity__key"],), r["n"]) for r in rows]


def undispatched_events():
    return [((), TimelineEvent.objects.filter(dispatched_at__isnull=True).count())]
