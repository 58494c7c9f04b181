"""Gauges for /metrics: components by state. (Subscriber messages are deliveries: the delivery
layer's gauges count them under the purpose `statuspage`.)"""

from django.db.models import Count

from .models import StatusComponent


def components_by_status() -> list[tuple[tuple[str, ...], float]]:
    return [((status,), float(n)) for status, n in StatusComponent.objects.values_list("status").annotate(n=Count("pk"))]
