from django.conf import settings
from django.db import models
from django.db.models import F, Q

from .catalog import Service


class MaintenanceStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    VERIFYING = "verifying", "Verifying"
    COMPLETED = "completed", "Completed"


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

    class Meta:
        ordering = ["scheduled_for"]
        constraints = [
            models.CheckConstraint(condition=Q(scheduled_until__gt=F("scheduled_for")), name="maintenance_ends_after_start"),
        ]
        indexes = [models.Index(fields=["status", "scheduled_for"])]

    def __str__(self):
        return self.title
