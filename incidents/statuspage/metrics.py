"""Gauges for /metrics: subscriber messages by state (a growing `pending` means delivery is
stuck) and components by state."""

from django.db.models import Count

from .models import Notification, StatusComponent


def notifications_by_state() -> list[tuple[tuple[str, ...], float]]:
    counts = dict(Notification.objects.values_list("state").annotate(n=Count("pk")))
    return [((state,), float(counts.get(state, 0))) for state in Notification.State.values]


def components_by_status() -> list[tuple[tuple[str, ...], float]]:
    return [((status,), float(n)) for status, n in StatusComponent.objects.values_list("status").annotate(n=Count("pk"))]
