"""Prometheus gauges for /metrics (registered in AppConfig.ready())."""

from datetime import timedelta

from django.db.models import Count, Min
from django.utils import timezone

from config.metrics import age_seconds, register_metric

from .models import Notification, NotificationStatus


def _queued():
    counts = dict(
        Notification.objects.filter(status__in=[NotificationStatus.PENDING, NotificationStatus.SENDING])
        .values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    overdue = Notification.objects.filter(status=NotificationStatus.PENDING, due_at__lt=timezone.now() - timedelta(minutes=1)).count()
    return [(("pending",), counts.get("pending", 0)), (("sending",), counts.get("sending", 0)), (("overdue",), overdue)]


def _failed_last_hour():
    since = timezone.now() - timedelta(hours=1)
    return [((), Notification.objects.filter(status=NotificationStatus.FAILED, updated_at__gte=since).count())]


def _undelivered():
    """Rows past their due time and not sent (pending, or stuck sending), and rows that failed
    for good in the last 24 hours."""
    now = timezone.now()
    late = Notification.objects.filter(status__in=[NotificationStatus.PENDING, NotificationStatus.SENDING], due_at__lte=now).count()
    failed = Notification.objects.filter(status=NotificationStatus.FAILED, updated_at__gte=now - timedelta(hours=24)).count()
    return [(("pending_past_due",), late), (("failed",), failed)]


def _undelivered_oldest():
    oldest = (Notification.objects.filter(status__in=[NotificationStatus.PENDING, NotificationStatus.SENDING], due_at__lte=timezone.now())
              .aggregate(t=Min("due_at"))["t"])
    return [((), age_seconds(oldest))]


def register() -> None:
    register_metric("portal_notifications_queued", "Notifications waiting to be sent (overdue: due over a minute ago).", ("state",), _queued)
    register_metric("portal_notifications_undelivered", "Notifications past their due time and not sent "
                    "(pending_past_due), and failed for good in the last 24 h (failed).", ("state",), _undelivered)
    register_metric("portal_notifications_undelivered_oldest_seconds",
                    "How long the oldest unsent notification has been due (0: none).", (), _undelivered_oldest)
    register_metric("portal_notifications_failed_last_hour", "Notifications that failed for good in the last hour.", (), _failed_last_hour)
