"""Gauges for /metrics: work that is late (read from the database at scrape time). Reminders are
deliveries: the delivery layer's gauges count them under the purpose `postmortem_reminders`."""

from django.utils import timezone

from .models import ACTION_OPEN_STATUSES, ActionItem, Postmortem, PostmortemStatus


def postmortems_overdue():
    n = Postmortem.objects.exclude(status=PostmortemStatus.PUBLISHED).filter(due_at__lt=timezone.now()).count()
    return [((), n)]


def action_items_overdue():
    n = ActionItem.objects.filter(status__in=ACTION_OPEN_STATUSES, due_date__lt=timezone.localdate()).count()
    return [((), n)]
