"""Thin tasks: load ids, call one service. Each is safe to run twice (compare-and-set inside)."""

import logging

from celery import shared_task
from django.db import connection, transaction
from django.utils import timezone

from incidents.models import Maintenance, MaintenanceStatus

from . import services

logger = logging.getLogger(__name__)

SWEEP_BATCH = 200


def _skip_locked(qs):
    return qs.select_for_update(skip_locked=True) if connection.features.has_select_for_update_skip_locked else qs


@shared_task(ignore_result=True)
def maintenance_step_task(maintenance_id: int) -> str | None:
    maintenance = Maintenance.objects.filter(pk=maintenance_id).first()
    if maintenance is None:
        return None
    return services.maintenance_step(maintenance=maintenance)


@shared_task(ignore_result=True)
def maintenance_sweep_task() -> int:
    """The scheduler's safety net: start and complete every window that is due, and give windows
    made elsewhere (core admin, other apps) their public record."""
    now = timezone.now()
    for m in Maintenance.objects.filter(statuspage__isnull=True):
        services.maintenance_record_ensure(m)
    moved = 0
    with transaction.atomic():
        due = list(
            _skip_locked(Maintenance.objects.filter(
                status__in=[MaintenanceStatus.SCHEDULED, MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING]
            ).exclude(status=MaintenanceStatus.SCHEDULED, scheduled_for__gt=now).exclude(
                status__in=[MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING], scheduled_until__gt=now
            )).order_by("scheduled_for")[:SWEEP_BATCH]
        )
        for m in due:
            moved += services.maintenance_step(maintenance=m, now=now) is not None
    return moved
