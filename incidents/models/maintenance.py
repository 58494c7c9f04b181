from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from .catalog import Service


class MaintenanceStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    VERIFYING = "verifying", "Verifying"
    COMPLETED = "completed", "Completed"


# Started by hand or by the scheduler, not yet completed.
STARTED_STATUSES = (MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING)


class MaintenanceQuerySet(models.QuerySet):
    def active(self, now: datetime | None = None) -> "MaintenanceQuerySet":
        """Windows that are on at `now` (see `Maintenance.is_active`, the same rule in memory)."""
        now = now or timezone.now()
        return self.filter(
            Q(status__in=STARTED_STATUSES)
            | Q(status=MaintenanceStatus.SCHEDULED, scheduled_for__lte=now, scheduled_until__gt=now)
        )


class Maintenance(models.Model):
    """A planned window on some services: shown on the status page when public, and alerts that
    arrive for its services while it is in progress are recorded but page nobody."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=10_000)
    services = models.ManyToManyField(Service, related_name="maintenances")
    scheduled_for = models.DateTimeField()
    scheduled_until = models.DateTimeField()
    status = models.CharField(max_length=20, choices=MaintenanceStatus.choices, default=MaintenanceStatus.SCHEDULED)
    public = models.BooleanField(default=True, help_text="Shown on the public status page.")
    suppress_alerts = models.BooleanField(default=True, help_text="Alerts during the window page nobody.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MaintenanceQuerySet.as_manager()

    class Meta:
        ordering = ["scheduled_for"]
        constraints = [
            models.CheckConstraint(condition=Q(scheduled_until__gt=F("scheduled_for")), name="maintenance_ends_after_start"),
        ]
        indexes = [models.Index(fields=["status", "scheduled_for"])]

    def __str__(self):
        return self.title

    def is_active(self, now: datetime | None = None) -> bool:
        """The one rule for "this window is on", asked by alert suppression and the status page:
        started (in progress or verifying) and not completed, whatever the clock says, since
        people start early and verify late; or still scheduled while its scheduled window holds
        `now`, so the few seconds before the scheduler starts it count too. A window never started
        whose end has passed is over. `MaintenanceQuerySet.active` is the same rule in SQL."""
        now = now or timezone.now()
        if self.status in STARTED_STATUSES:
            return True
        return self.status == MaintenanceStatus.SCHEDULED and self.scheduled_for <= now < self.scheduled_until
