"""What incidents are classified by: severities (data, not code), services, and the
communication templates responders copy from."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from delivery import safetext

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour such as #d92d20.")

# The only placeholders a war-room pattern may hold: they come from the incident's number,
# never from anything a user or an alert typed.
WAR_ROOM_PLACEHOLDERS = ("{number}", "{slug}")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def war_room_url(pattern: str, number: str) -> str:
    """`pattern` with `{number}` (INC-20260101-001) and `{slug}` (inc-20260101-001) filled
    in; "" when the result is not an http(s) URL. A pattern without placeholders is a fixed link."""
    url = (pattern or "").strip().replace("{number}", number).replace("{slug}", number.lower())
    return safetext.url(url)


def validate_war_room_pattern(pattern: str) -> None:
    if not pattern:
        return
    unknown = [p for p in _PLACEHOLDER.findall(pattern) if p not in WAR_ROOM_PLACEHOLDERS]
    if unknown:
        raise ValidationError(f"Unknown placeholder {unknown[0]}: use {{number}} or {{slug}}.")
    if not war_room_url(pattern, "INC-20260101-001"):
        raise ValidationError("The pattern must give an http(s) link, e.g. https://meet.example.com/{number}.")


class UpdatePolicy(models.TextChoices):
    PERIODIC = "periodic", "Every cadence interval"
    INITIAL_AND_RESOLUTION = "initial_resolution", "Initial and resolution"
    RESOLUTION_ONLY = "resolution_only", "Resolution only"


class Urgency(models.TextChoices):
    """How a severity reaches people (PagerDuty's two urgencies)."""

    HIGH = "high", "High: page now, day or night"
    LOW = "low", "Low: notify in working hours, page at the start of the next working period"


class Severity(models.Model):
    """One level of a team's scheme (P0-P3, P1-P4, SEV1-SEV4...). Lower rank = more severe."""

    key = models.SlugField(max_length=16, unique=True, help_text="Short code shown everywhere, e.g. P0 or SEV1.")
    label = models.CharField(max_length=60, help_text="e.g. Critical")
    description = models.TextField(blank=True, help_text="When to use this severity.")
    rank = models.PositiveSmallIntegerField(unique=True, help_text="0 is the most severe.")
    colour = models.CharField(max_length=7, default="#667085", validators=[hex_colour])
    ack_target = models.DurationField(
        null=True, blank=True, help_text="Acknowledge within this long. Empty: next business day."
    )
    update_policy = models.CharField(
        max_length=20, choices=UpdatePolicy.choices, default=UpdatePolicy.PERIODIC
    )
    update_cadence = models.DurationField(
        null=True, blank=True, help_text="Public update interval while open (periodic policy)."
    )
    mtta_target = models.DurationField(null=True, blank=True, help_text="Target mean time to acknowledge.")
    mttr_target = models.DurationField(null=True, blank=True, help_text="Target mean time to resolve.")
    postmortem_required = models.BooleanField(default=False)
    postmortem_due = models.DurationField(
        null=True, blank=True, help_text="Postmortem due this long after resolution."
    )
    postmortem_meeting_within = models.DurationField(
        null=True, blank=True,
        help_text="Hold the postmortem (review) meeting within this long after resolution; the owner is reminded "
                  "and the postmortem shows it overdue until a meeting is set. Empty: no deadline.")
    first_notice_within = models.DurationField(
        null=True, blank=True,
        help_text="Post the initial notice (a public or stakeholder update) within this long after declaration; "
                  "the communications lead (or commander) is reminded until one is posted. Empty: no reminder.")
    war_room_pattern = models.CharField(
        max_length=300, blank=True, validators=[validate_war_room_pattern],
        help_text="The war-room link of this severity's incidents: a pattern with {number} or {slug} "
                  "(https://meet.example.com/{number}) or a fixed link. Empty: pasted by hand.")
    war_room_auto = models.BooleanField(
        default=False, help_text="Start the war room at once when an incident is declared at or raised to this severity.")
    urgency = models.CharField(
        max_length=4, choices=Urgency.choices, default=Urgency.HIGH,
        help_text="Low: people are notified during their working hours only (by their low-urgency rules) and "
                  "the acknowledge clock counts business hours.")
    is_active = models.BooleanField(default=True, help_text="Inactive severities cannot be chosen.")

    class Meta:
        ordering = ["rank"]
        verbose_name_plural = "severities"

    def __str__(self):
        return f"{self.key} {self.label}"


class SeverityChecklistItem(models.Model):
    """An incident-commander checklist line; copied onto each incident of the severity."""

    severity = models.ForeignKey(Severity, on_delete=models.CASCADE, related_name="checklist_items")
    text = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["severity", "position", "pk"]

    def __str__(self):
        return self.text


class ActiveManager(models.Manager):
    """Rows not archived: what pickers offer (`Model.active`)."""

    def get_queryset(self):
        return super().get_queryset().filter(archived_at__isnull=True)


class Service(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    team = models.CharField(max_length=120, blank=True, help_text="Owning team.")
    runbook_url = models.URLField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(
        null=True, blank=True, help_text="Archived: no longer offered for new incidents; past incidents keep it.")

    objects = models.Manager()
    active = ActiveManager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class CommunicationTemplate(models.Model):
    """A message responders copy into chat or email, rendered from the incident's data with
    Django template syntax: {{ incident.title }}, {{ incident.severity.key }}, {{ commander }}..."""

    class Kind(models.TextChoices):
        INITIAL = "initial", "Initial alert"
        PROGRESS = "progress", "Progress update"
        RESOLUTION = "resolution", "Resolution notice"
        EXTERNAL = "external", "External notice"

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    audience = models.CharField(max_length=60, default="Slack", help_text="Where it is pasted.")
    body = models.TextField()
    position = models.PositiveSmallIntegerField(default=0)
    incident_type = models.ForeignKey(
        "incidents.IncidentType", null=True, blank=True, on_delete=models.CASCADE, related_name="communication_templates",
        help_text="Only for incidents of this type, and preferred over the generic templates of the same kind. "
                  "Empty: for every incident.")

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class MetricTargets(models.Model):
    """The targets the metrics page measures against, beside the severities' own (MTTA, MTTR):
    one row (pk 1), edited in the admin or set by a loaded procedure, through
    `catalog.metric_targets_update`. An empty target is not shown as met or missed."""

    SINGLETON = 1

    mttk_target = models.DurationField(
        null=True, blank=True, verbose_name="MTTK target",
        help_text="Mean time to know: from the start of impact to detection (the declaration).")
    mtti_target = models.DurationField(
        null=True, blank=True, verbose_name="MTTI target", help_text="Mean time to identify: declaration to cause identified.")
    mtbf_target = models.DurationField(
        null=True, blank=True, verbose_name="MTBF target",
        help_text="Mean time between failures of a service: at least this long.")
    false_positive_rate_target = models.FloatField(
        null=True, blank=True, verbose_name="false-positive rate target",
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="At most this share of resolved incidents are false positives (0.1 = 10%).")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "metric targets"
        verbose_name_plural = "metric targets"
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="metric_targets_single_row")]

    def __str__(self):
        return "Metric targets"
