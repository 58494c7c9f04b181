"""Prometheus gauges of the one outbox, labelled by purpose (config.views registers them on
/metrics: the top layer wires the bottom one in, this module imports nothing of ours).

Each entry of `GAUGES` is (name, help, label names, collect) where `collect()` returns
[(label values, value), ...]."""

from datetime import timedelta

from django.db.models import Count, Min
from django.utils import timezone

from . import purposes
from .models import OPEN_STATUSES, Delivery, DeliveryStatus

S = DeliveryStatus


def _by_purpose(qs) -> dict[str, int]:
    """Counts per purpose; every registered purpose is there, 0 when it has no row."""
    counts = {p.name: 0 for p in purposes.registered()}
    counts.update(qs.order_by().values_list("purpose").annotate(n=Count("pk")).values_list("purpose", "n"))
    return counts


def queued():
    now = timezone.now()
    rows = []
    for state, qs in (("pending", Delivery.objects.filter(status=S.PENDING)), ("sending", Delivery.objects.filter(status=S.SENDING)),
                      ("overdue", Delivery.objects.filter(status=S.PENDING, due_at__lt=now - timedelta(minutes=1)))):
        rows += [((purpose, state), n) for purpose, n in _by_purpose(qs).items()]
    return rows


def undelivered():
    """Rows past their due time and not sent (pending, or stuck sending), and rows that failed
    for good in the last 24 hours."""
    now = timezone.now()
    late = _by_purpose(Delivery.objects.filter(status__in=OPEN_STATUSES, due_at__lte=now))
    failed = _by_purpose(Delivery.objects.filter(status=S.FAILED, updated_at__gte=now - timedelta(hours=24)))
    return [((p, "pending_past_due"), n) for p, n in late.items()] + [((p, "failed"), n) for p, n in failed.items()]


def undelivered_oldest():
    now = timezone.now()
    oldest = {p.name: 0.0 for p in purposes.registered()}
    for purpose, t in (Delivery.objects.filter(status__in=OPEN_STATUSES, due_at__lte=now).order_by()
                       .values_list("purpose").annotate(t=Min("due_at")).values_list("purpose", "t")):
        oldest[purpose] = max((now - t).total_seconds(), 0.0)
    return [((purpose,), age) for purpose, age in oldest.items()]


def failed_last_hour():
    return [((p,), n) for p, n in _by_purpose(Delivery.objects.filter(
        status=S.FAILED, updated_at__gte=timezone.now() - timedelta(hours=1))).items()]


GAUGES = (
    ("portal_deliveries_queued", "Deliveries waiting to be sent, by purpose (overdue: due over a minute ago).",
     ("purpose", "state"), queued),
    ("portal_deliveries_undelivered", "Deliveries past their due time and not sent (pending_past_due), and failed for "
     "good in the last 24 h (failed), by purpose.", ("purpose", "state"), undelivered),
    ("portal_deliveries_undelivered_oldest_seconds", "How long the oldest unsent delivery of each purpose has been due.",
     ("purpose",), undelivered_oldest),
    ("portal_deliveries_failed_last_hour", "Deliveries that failed for good in the last hour, by purpose.",
     ("purpose",), failed_last_hour),
)
