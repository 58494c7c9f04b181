"""Prometheus gauges for /metrics (registered in AppConfig.ready())."""

from datetime import timedelta

from django.db.models import Count
from django.utils import timezone

from config.metrics import register_metric

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


def register() -> None:
    register_metric("portal_notifications_queued", "Notifications waiting to be sent (overdue: due over a minute ago).", ("state",), _queued)
    register_metric("portal_notifications_failed_last_hour", "Notifications that failed for good in the last hour.", (), _failed_last_hour)
