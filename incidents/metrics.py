"""The core's Prometheus gauges (registered in delivery.gauges, served by config.metrics)."""

from django.db.models import Count, Min

from delivery.gauges import age_seconds

from .models import EventDelivery, EventDeliveryStatus, Incident, IncidentStatus, TimelineEvent


def open_incidents():
    rows = Incident.objects.visible_to(None).exclude(status=IncidentStatus.RESOLVED).filter(is_drill=False).values("severity__key").annotate(n=Count("pk"))
    return [((r["severity__key"],), r["n"]) for r in rows]


def undispatched_events():
    return [((), TimelineEvent.objects.filter(dispatched_at__isnull=True).count())]


def undispatched_events_oldest():
    oldest = TimelineEvent.objects.filter(dispatched_at__isnull=True).aggregate(t=Min("created_at"))["t"]
    return [((), age_seconds(oldest))]


def _deliveries_by_subscriber(status: str):
    rows = EventDelivery.objects.filter(status=status).values("subscriber").annotate(n=Count("pk")).order_by("subscriber")
    return [((r["subscriber"],), r["n"]) for r in rows]


def deliveries_pending():
    return _deliveries_by_subscriber(EventDeliveryStatus.PENDING)


def deliveries_failed():
    return _deliveries_by_subscriber(EventDeliveryStatus.FAILED)


def deliveries_pending_oldest():
    oldest = EventDelivery.objects.filter(status=EventDeliveryStatus.PENDING).aggregate(t=Min("created_at"))["t"]
    return [((), age_seconds(oldest))]


GAUGES = [
    ("portal_incidents_open", "Open incidents by severity (drills left out).", ("severity",), open_incidents),
    ("portal_events_undispatched", "Timeline events some subscriber has not finished with.", (), undispatched_events),
    ("portal_events_undispatched_oldest_seconds", "Age of the oldest such event (0: none).", (), undispatched_events_oldest),
    ("portal_event_deliveries_pending", "Outbox rows (event, subscriber) not run yet, by subscriber.", ("subscriber",),
     deliveries_pending),
    ("portal_event_deliveries_pending_oldest_seconds", "Age of the oldest pending outbox row (0: none).", (),
     deliveries_pending_oldest),
    ("portal_event_deliveries_failed", "Outbox rows that failed for good (EVENTS_MAX_ATTEMPTS), by subscriber.",
     ("subscriber",), deliveries_failed),
]
