"""Gauges for /metrics: work that is late or waiting (read from the database at scrape time)."""

from django.db.models import Count
from django.utils import timezone

from .models import ACTION_OPEN_STATUSES, ActionItem, Postmortem, PostmortemStatus, Reminder, ReminderStatus


def reminders_due():
    now = timezone.now()
    rows = (Reminder.objects.filter(status__in=[ReminderStatus.PENDING, ReminderStatus.SENDING], due_at__lte=now)
            .values_list("kind").annotate(n=Count("pk")).order_by())
    return [((kind,), n) for kind, n in rows]


def postmortems_overdue():
    n = Postmortem.objects.exclude(status=PostmortemStatus.PUBLISHED).filter(due_at__lt=timezone.now()).count()
    return [((), n)]


def action_items_overdue():
    n = ActionItem.objects.filter(status__in=ACTION_OPEN_STATUSES, due_date__lt=timezone.localdate()).count()
    return [((), n)]
