"""Schedules: the rules only. Shifts are computed (see `oncall.rotation`), never stored."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from incidents.zones import SCHEDULE_DEFAULT, validate_zone


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Schedule(models.Model):
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    time_zone = models.CharField(max_length=64, default=SCHEDULE_DEFAULT, validators=[validate_zone],
                                 help_text="IANA name; handoff times and restrictions are in this zone.")
    ical_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    archived_at = models.DateTimeField(null=True, blank=True,
                                       help_text="Archived: off the lists and pickers; nobody pages it any more.")
    version = models.PositiveIntegerField(default=0, help_text="Bumped on every rule change (cache key).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("oncall:schedule", args=[self.pk])


class RotationKind(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    EVERY_N_DAYS = "days", "Every N days"
    EVERY_N_HOURS = "hours", "Every N hours"


WEEKDAY_CHOICES = [(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday"), (5, "Saturday"), (6, "Sunday")]


class Layer(models.Model):
    """One rotation of a schedule. Layers are ordered: the first with someone on call wins."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(max_length=80)
    position = models.PositiveSmallIntegerField(default=0)
    rotation = models.CharField(max_length=10, choices=RotationKind.choices, default=RotationKind.WEEKLY)
    every = models.PositiveSmallIntegerField(default=1, help_text="N for every N days / hours.")
    handoff_time = models.TimeField(default="09:00")
    handoff_weekday = models.PositiveSmallIntegerField(choices=WEEKDAY_CHOICES, default=0, help_text="Weekly rotations.")
    weekdays_only = models.BooleanField(default=False, help_text="Daily turns advance on Monday-Friday only.")
    starts_on = models.DateField(help_text="First day of the rotation (local).")
    ends_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["schedule", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "name"], name="oncall_layer_unique_name"),
            models.CheckConstraint(condition=Q(every__gte=1), name="oncall_layer_every_positive"),
        ]

    def __str__(self):
        return f"{self.schedule} · {self.name}"


class LayerMembership(models.Model):
    """The ordered participants of a layer from `effective_from` on (null: from the start).
    A change is a new row, so past shifts never change."""

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="memberships")
    effective_from = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["layer", F("effective_from").asc(nulls_first=True)]
        constraints = [models.UniqueConstraint(fields=["layer", "effective_from"], name="oncall_membership_unique_from")]

    def __str__(self):
        return f"{self.layer} from {self.effective_from or 'the start'}"


class LayerMember(models.Model):
    """One slot: a person (or nobody: an off slot) for `turns` consecutive turns."""

    membership = models.ForeignKey(LayerMembership, on_delete=models.CASCADE, related_name="members")
    position = models.PositiveSmallIntegerField(default=0)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    turns = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["membership", "position", "pk"]
        constraints = [models.CheckConstraint(condition=Q(turns__gte=1), name="oncall_member_turns_positive")]

    def __str__(self):
        return f"{self.user or 'off'} ×{self.turns}"


class Restriction(models.Model):
    """The layer covers only this local window on these weekdays (several rows: any of them)."""

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="restrictions")
    weekdays = models.JSONField(default=list, help_text="0 = Monday ... 6 = Sunday")
    start_time = models.TimeField()
    end_time = models.TimeField(help_text="At or before the start: runs past midnight.")

    def __str__(self):
        return f"{self.start_time:%H:%M}-{self.end_time:%H:%M} on {self.weekdays}"


class Override(models.Model):
    """Someone covers a time range: the whole schedule, one layer, or only where `replaces`
    would be on call (a swap or vacation)."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    layer = models.ForeignKey(Layer, null=True, blank=True, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="oncall_overrides")
    replaces = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start", "pk"]
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="oncall_override_end_after_start")]
        indexes = [models.Index(fields=["end", "start"], name="oncall_override_window")]

    def __str__(self):
        return f"{self.user} on {self.schedule} {self.start:%Y-%m-%d %H:%M}"


class HandoffNote(models.Model):
    """What the outgoing person wants the next one to know; sent with the handoff report."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="handoff_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)
    handoff = models.ForeignKey("Handoff", null=True, blank=True, on_delete=models.SET_NULL, related_name="notes")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"note by {self.author} on {self.schedule}"


class HandoffStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    CANCELLED = "cancelled", "Cancelled"


class Handoff(models.Model):
    """A planned change of the schedule's on-call person; due at the change. Durable: the
    report goes out from the ETA task or the sweep, exactly once (compare-and-set on status)."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="handoffs")
    due_at = models.DateTimeField()
    incoming = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    outgoing = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=HandoffStatus.choices, default=HandoffStatus.PENDING)
    report = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-due_at"]
        constraints = [models.UniqueConstraint(fields=["schedule", "due_at"], name="oncall_handoff_unique")]
        indexes = [models.Index(fields=["due_at"], name="oncall_handoff_pending", condition=Q(status="pending"))]

    def __str__(self):
        return f"handoff {self.schedule} at {self.due_at}"


class CalendarToken(models.Model):
    """The secret in a user's personal calendar-feed URL."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oncall_calendar")
    token = models.CharField(max_length=64, unique=True, default=new_token)

    def __str__(self):
        return f"calendar of {self.user}"
