from django.conf import settings
from django.db import models
from django.db.models import Q

from .incident import Incident, IncidentStatus


class EventKind:
    """Kinds the core writes. Other apps write their own kinds ("escalation.notified"...):
    the column is free text on purpose, so a new reaction never means editing `incidents`."""

    DECLARED = "declared"
    ACKNOWLEDGED = "acknowledged"
    STATUS_CHANGED = "status_changed"
    SEVERITY_CHANGED = "severity_changed"
    ROLE_ASSIGNED = "role_assigned"
    ROLE_REMOVED = "role_removed"
    RESPONDER_ADDED = "responder_added"
    NOTE = "note"
    STATUS_UPDATE = "status_update"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CHECKLIST = "checklist"
    EDITED = "edited"
    WAR_ROOM = "war_room"
    LINK_ADDED = "link_added"
    LINK_REMOVED = "link_removed"
    TYPE_CHANGED = "type_changed"
    RESTRICTED = "restricted"
    UNRESTRICTED = "unrestricted"


class Visibility(models.TextChoices):
    INTERNAL = "internal", "Internal"
    PUBLIC = "public", "Public"


class TimelineEvent(models.Model):
    """The incident's history, and the outbox that drives every reaction (see incidents.events).

    `dispatched_at` is null until the subscribers have run; the sweep retries what stays null."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=40, db_index=True)
    occurred_at = models.DateTimeField(help_text="When it happened (notes may be backdated).")
    created_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=120, blank=True, help_text="Who, when not a user (an integration, the system).")
    message = models.TextField(max_length=20_000)
    data = models.JSONField(default=dict, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["occurred_at", "pk"]
        indexes = [
            models.Index(fields=["incident", "occurred_at"]),
            models.Index(fields=["created_at"], condition=Q(dispatched_at__isnull=True), name="undispatched_events"),
        ]

    def __str__(self):
        return f"{self.incident_id} {self.kind} {self.occurred_at:%Y-%m-%d %H:%M}"

    @property
    def actor_name(self) -> str:
        if self.actor_id:
            return self.actor.get_full_name() or self.actor.get_username()
        return self.actor_label or "System"


class EventDeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class EventDelivery(models.Model):
    """The outbox row of one subscriber for one event (see incidents.events): written in the
    event's transaction, run by a task of its own, retried on its own. A failing or slow
    subscriber holds up only its own row."""

    event = models.ForeignKey(TimelineEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=EventDeliveryStatus.choices, default=EventDeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_try_at = models.DateTimeField(help_text="When the sweep may (re)send it; the fast path goes first.")
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "subscriber"], name="one_delivery_per_subscriber")]
        indexes = [models.Index(fields=["next_try_at"], condition=Q(status="pending"), name="due_event_deliveries")]

    def __str__(self):
        return f"{self.event_id} → {self.subscriber} ({self.status})"


class StatusUpdate(models.Model):
    """A written update: internal (for responders) or public (status page, subscribers)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=20, choices=IncidentStatus.choices)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL)
    body = models.TextField(max_length=20_000, help_text="Markdown.")
    created_at = models.DateTimeField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["incident", "visibility", "-created_at"])]

    def __str__(self):
        return f"{self.incident_id} {self.visibility} {self.created_at:%Y-%m-%d %H:%M}"
