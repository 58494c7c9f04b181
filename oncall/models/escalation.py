"""Escalation policies (the rules) and escalations (one run of a policy for an incident,
with a snapshot of the rules and one row per pending step)."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.urls import reverse

from incidents.integrations.models import Integration
from incidents.models import Incident, IncidentType, Service, Severity

from .schedules import Layer, Schedule


class EscalationPolicy(models.Model):
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    repeat = models.PositiveSmallIntegerField(default=0, help_text="Run the levels again this many times if nobody acknowledges.")
    repeat_after_seconds = models.PositiveIntegerField(
        default=15 * 60, help_text="A repeat starts this long after the last level's delay.")
    services = models.ManyToManyField(Service, through="ServicePolicy", blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "escalation policies"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("oncall:policy", args=[self.pk])


class ServicePolicy(models.Model):
    """Which policy a service's incidents start. Lives here, not in `incidents`."""

    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="oncall_policy")
    # PROTECT: a policy still starting some service's incidents is not deleted from under it.
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.PROTECT, related_name="service_links")

    def __str__(self):
        return f"{self.service} -> {self.policy}"


class IntegrationPolicy(models.Model):
    """An integration's override of its service's policy: incidents its alerts open start this
    policy instead (e.g. the database monitor pages the DBA rotation, not the API on-call)."""

    integration = models.OneToOneField(Integration, on_delete=models.CASCADE, related_name="oncall_policy")
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.PROTECT, related_name="integration_links")

    def __str__(self):
        return f"{self.integration} -> {self.policy}"


class TypePolicy(models.Model):
    """A policy an incident type starts in addition to its services' (a suspected breach pages
    Security and Legal whatever service it hit). Lives here, not in `incidents`."""

    incident_type = models.OneToOneField(IncidentType, on_delete=models.CASCADE, related_name="oncall_policy")
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.PROTECT, related_name="type_links")

    def __str__(self):
        return f"{self.incident_type} -> {self.policy}"


class Condition(models.TextChoices):
    NOT_ACKNOWLEDGED = "acknowledged", "Not acknowledged"
    NOT_MITIGATED = "mitigated", "Not mitigated"
    NOT_RESOLVED = "resolved", "Not resolved"


class LevelMode(models.TextChoices):
    ALL = "all", "Notify all targets at once"
    ROUND_ROBIN = "round_robin", "One by one (round robin)"


class EscalationLevel(models.Model):
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="levels")
    position = models.PositiveSmallIntegerField(default=0)
    condition = models.CharField(max_length=20, choices=Condition.choices, default=Condition.NOT_ACKNOWLEDGED)
    delay_seconds = models.PositiveIntegerField(default=0, help_text="After declaration; 0 = at once.")
    severities = models.ManyToManyField(Severity, blank=True, related_name="+", help_text="Empty: every severity.")
    mode = models.CharField(max_length=20, choices=LevelMode.choices, default=LevelMode.ALL)
    round_robin_seconds = models.PositiveIntegerField(default=5 * 60, help_text="Round robin: next target after this long.")

    class Meta:
        ordering = ["policy", "position", "pk"]

    def __str__(self):
        return f"{self.policy} level {self.position + 1}"

    @property
    def delay_minutes(self) -> float:
        return self.delay_seconds / 60


class TargetKind(models.TextChoices):
    SCHEDULE = "schedule", "Schedule's on-call person"
    LAYER = "layer", "Layer's on-call person"
    USER = "user", "User"
    GROUP = "group", "Group of users"


class EscalationTarget(models.Model):
    level = models.ForeignKey(EscalationLevel, on_delete=models.CASCADE, related_name="targets")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=TargetKind.choices)
    # PROTECT: deleting a schedule, layer, person or group a level pages would leave the level
    # paging nobody, silently. Take them out of the policy first (the delete says which).
    schedule = models.ForeignKey(Schedule, null=True, blank=True, on_delete=models.PROTECT, related_name="escalation_targets")
    layer = models.ForeignKey(Layer, null=True, blank=True, on_delete=models.PROTECT, related_name="escalation_targets")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    inform = models.BooleanField(
        default=False, help_text="Inform only: a message when the level fires, with no acknowledge ladder and no phone "
                                 "ring (the person's non-phone methods); they are not counted as paged.")

    class Meta:
        ordering = ["level", "position", "pk"]
        constraints = [
            models.CheckConstraint(name="oncall_target_matches_kind", condition=(
                Q(kind="schedule", schedule__isnull=False) | Q(kind="layer", layer__isnull=False)
                | Q(kind="user", user__isnull=False) | Q(kind="group", group__isnull=False))),
        ]

    def __str__(self):
        label = f"{self.get_kind_display()}: {self.schedule or self.layer or self.user or self.group}"
        return f"{label} (inform)" if self.inform else label


class EscalationState(models.TextChoices):
    ACTIVE = "active", "Active"
    FINISHED = "finished", "Finished"


class Escalation(models.Model):
    """One run of a policy for an incident. `snapshot` freezes the policy's levels when the
    run starts, so editing the policy does not change a page already under way."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="escalations")
    policy = models.ForeignKey(EscalationPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="escalations")
    trigger_event_id = models.BigIntegerField(null=True, blank=True, help_text="The timeline event that started it.")
    snapshot = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=EscalationState.choices, default=EscalationState.ACTIVE)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    manual = models.BooleanField(default=False, help_text="A page sent by hand from the incident.")

    class Meta:
        ordering = ["started_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["trigger_event_id", "policy"], name="oncall_escalation_once_per_event")]
        permissions = [("page_manually", "Can page a person or schedule by hand from an incident")]

    def __str__(self):
        return f"escalation {self.pk} of {self.incident_id}"


class StepStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    FIRED = "fired", "Notified"
    CANCELLED = "cancelled", "Cancelled"


class EscalationStep(models.Model):
    """One pending notification: (escalation, level, round, slot) with a due time. Fired once,
    by whichever of the ETA task and the sweep claims it first (compare-and-set on status)."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="steps")
    level = models.PositiveSmallIntegerField()
    round = models.PositiveSmallIntegerField(default=0)
    slot = models.PositiveSmallIntegerField(default=0, help_text="Round robin: which target.")
    condition = models.CharField(max_length=20, choices=Condition.choices)
    targets = models.JSONField(default=list, help_text="Snapshot of the targets this step pages.")
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=StepStatus.choices, default=StepStatus.PENDING)
    fired_at = models.DateTimeField(null=True, blank=True)
    notified = models.JSONField(default=list, blank=True, help_text="User ids paged.")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["due_at", "level", "slot", "pk"]
        constraints = [models.UniqueConstraint(fields=["escalation", "level", "round", "slot"], name="oncall_step_once")]
        indexes = [models.Index(fields=["due_at"], name="oncall_step_pending_due", condition=Q(status="pending"))]

    def __str__(self):
        return f"step L{self.level + 1} R{self.round + 1} S{self.slot} ({self.status})"
