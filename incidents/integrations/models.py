"""Alert integrations, the alerts they receive, heartbeats and runbooks.

An integration belongs to a service and has a secret key (only its SHA-256 is stored). Each
alert it receives is upserted by fingerprint into an `Alert`; alerts are grouped into an
`AlertGroup` (one row per grouping value, locked while an alert is processed, which is what
keeps concurrent deliveries from opening two incidents), and the group points at its incident.
"""

import hashlib
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident, Service, Severity


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class IntegrationKind(models.TextChoices):
    ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
    PAGERDUTY = "pagerduty", "PagerDuty Events API v2"
    HEARTBEAT = "heartbeat", "Heartbeat monitor"
    WEBHOOK = "webhook", "Generic JSON webhook"


# The field names a generic webhook maps from the payload (dotted paths).
WEBHOOK_FIELDS = ("title", "status", "fingerprint", "severity", "description", "link")
DEFAULT_FIELD_MAPPING = {name: name for name in WEBHOOK_FIELDS}


class Integration(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="integrations")
    kind = models.CharField(max_length=20, choices=IntegrationKind.choices)
    key_prefix = models.CharField(max_length=8, editable=False, help_text="First characters of the key, to tell keys apart.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="A revoked integration answers 404.")
    archived_at = models.DateTimeField(null=True, blank=True,
                                       help_text="Archived: revoked and off the lists; its alerts stay on their incidents.")

    default_severity = models.ForeignKey(
        Severity, on_delete=models.PROTECT, related_name="+",
        help_text="Severity of incidents when no mapping rule matches.",
    )
    severity_rules = models.JSONField(
        default=list, blank=True,
        help_text='First match wins: [{"match": {"severity": "critical"}, "severity": "P1"}]. '
                  "A match value may be a list of accepted values.",
    )
    group_by = models.JSONField(
        default=list, blank=True,
        help_text='Fields whose values make two alerts the same incident, e.g. ["alertname", "cluster"]. '
                  "Empty: Alertmanager's groupKey, PagerDuty's dedup key, the webhook's fingerprint.",
    )
    field_mapping = models.JSONField(
        default=dict, blank=True,
        help_text="Generic webhook only: dotted paths for title, status, fingerprint, severity, description, link.",
    )
    resolved_values = models.JSONField(
        default=list, blank=True,
        help_text='Generic webhook only: status values meaning resolved (default ["resolved", "ok", "closed"]).',
    )
    auto_resolve = models.BooleanField(default=True, help_text="Resolve the incident when all its alerts resolve.")
    flap_window = models.DurationField(
        default=timedelta(minutes=10),
        help_text="An alert firing again this soon after its incident resolved reopens that incident.",
    )
    repeat_threshold = models.PositiveIntegerField(
        default=5, help_text="More than this many firings within the repeat window raises the severity. 0: off.",
    )
    repeat_window = models.DurationField(default=timedelta(minutes=10))
    repeat_severity = models.ForeignKey(
        Severity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Raise to this severity on repetition (e.g. P1).",
    )
    rate_limit_per_minute = models.PositiveIntegerField(
        default=6000, help_text="Requests per minute before answering 429. 0: no limit.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["service__name", "name"]
        permissions = [("send_test_alert", "Can send a test alert")]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"

    def get_absolute_url(self):
        return reverse("integrations:detail", kwargs={"public_id": self.public_id})

    @staticmethod
    def generate_key() -> str:
        # 32 hex characters: the shape of a PagerDuty routing key, which some senders check.
        return secrets.token_hex(16)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def mapping(self) -> dict:
        return {**DEFAULT_FIELD_MAPPING, **(self.field_mapping or {})}


class IntegrationMaintenance(models.Model):
    """A window in which this integration's alerts are recorded but page nobody (the core's
    `Maintenance` covers whole services; this covers one noisy source)."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="maintenance_windows")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="integration_maintenance_ends_after_start"),
        ]

    def __str__(self):
        return f"{self.integration} {self.starts_at:%Y-%m-%d %H:%M} – {self.ends_at:%H:%M}"


class AlertGroup(models.Model):
    """One grouping value of one integration and the incident it currently feeds. Processing an
    alert locks this row, so deliveries of the same group are serialised."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="groups")
    key = models.CharField(max_length=64, help_text="SHA-256 of the grouping value.")
    label = models.CharField(max_length=500, blank=True, help_text="The grouping value, readable.")
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    window_started_at = models.DateTimeField(null=True, blank=True)
    window_count = models.PositiveIntegerField(default=0, help_text="Firings in the current repeat window.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["integration", "key"], name="unique_alert_group")]

    def __str__(self):
        return self.label or self.key


class AlertStatus(models.TextChoices):
    FIRING = "firing", "Firing"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


OPEN_ALERT = ~Q(status=AlertStatus.RESOLVED)


class Alert(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    integration = models.ForeignKey(Integration, on_delete=models.PROTECT, related_name="alerts")
    group = models.ForeignKey(AlertGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    fingerprint = models.CharField(max_length=255, help_text="Alertmanager fingerprint, PagerDuty dedup key...")
    status = models.CharField(max_length=20, choices=AlertStatus.choices, default=AlertStatus.FIRING)
    title = models.CharField(max_length=1024)
    description = models.TextField(blank=True, max_length=20_000)
    severity = models.CharField(max_length=16, blank=True, help_text="The mapped severity key.")
    source_severity = models.CharField(max_length=40, blank=True, help_text="What the sender called it.")
    labels = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    links = models.JSONField(default=list, blank=True, help_text='[{"href": ..., "text": ...}]')
    payload = models.JSONField(default=dict, blank=True, help_text="The last raw payload received.")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    count = models.PositiveIntegerField(default=1, help_text="Deliveries received.")
    suppressed = models.BooleanField(default=False)
    suppressed_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-last_seen_at", "-pk"]
        constraints = [
            # One open alert per fingerprint per integration; a resolved one may fire again as a new alert.
            models.UniqueConstraint(fields=["integration", "fingerprint"], condition=OPEN_ALERT, name="one_open_alert_per_fingerprint"),
        ]
        indexes = [
            models.Index(fields=["integration", "-last_seen_at"]),
            models.Index(fields=["incident", "status"]),
            models.Index(fields=["integration", "fingerprint", "-last_seen_at"]),
        ]

    def __str__(self):
        return f"{self.fingerprint} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status != AlertStatus.RESOLVED

    @property
    def runbook_url(self) -> str:
        return (self.annotations or {}).get("runbook_url", "")


class HeartbeatStatus(models.TextChoices):
    NEW = "new", "Waiting for the first ping"
    UP = "up", "Up"
    DOWN = "down", "Down"


class Heartbeat(models.Model):
    """The due check of a heartbeat integration: a row with a due time (the durable-work rule).
    A ping pushes `due_at` forward; the ETA task and the sweep both act only on a due row, by
    compare-and-set on `due_at`, so either may run twice harmlessly."""

    integration = models.OneToOneField(Integration, on_delete=models.CASCADE, related_name="heartbeat")
    interval = models.DurationField(default=timedelta(minutes=5), validators=[MinValueValidator(timedelta(seconds=1))])
    grace = models.DurationField(default=timedelta(minutes=1))
    status = models.CharField(max_length=10, choices=HeartbeatStatus.choices, default=HeartbeatStatus.NEW)
    last_ping_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True, help_text="A missed ping opens an incident after this.")

    class Meta:
        indexes = [models.Index(fields=["due_at"], condition=Q(status=HeartbeatStatus.UP), name="heartbeat_due")]

    def __str__(self):
        return f"{self.integration} {self.status}"


runbook_identifier = RegexValidator(r"^RB-[A-Z0-9]+(-[A-Z0-9]+)*$", "Use an identifier such as RB-DB-001.")


class Runbook(models.Model):
    identifier = models.CharField(max_length=40, unique=True, validators=[runbook_identifier])
    title = models.CharField(max_length=200)
    prerequisites = models.TextField(blank=True, help_text="Markdown.")
    steps = models.TextField(help_text="Markdown.")
    rollback = models.TextField(blank=True, help_text="Markdown.")
    time_estimate = models.CharField(max_length=60, blank=True, help_text="e.g. 5-30 minutes")
    last_reviewed = models.DateField(null=True, blank=True)
    url = models.URLField(blank=True, help_text="Where the runbook also lives; alerts whose runbook_url equals it match.")
    services = models.ManyToManyField(Service, blank=True, related_name="runbooks")
    match_labels = models.JSONField(
        default=dict, blank=True, help_text='Alerts carrying all these labels match, e.g. {"alertname": "DatabaseDown"}.',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["identifier"]

    def __str__(self):
        return f"{self.identifier} {self.title}"

    def get_absolute_url(self):
        return reverse("integrations:runbook", kwargs={"identifier": self.identifier})

    @property
    def review_due_on(self):
        """The day its review falls due: `RUNBOOK_REVIEW_INTERVAL` after the last review (after it
        was written, if never reviewed)."""
        reviewed = self.last_reviewed or timezone.localdate(self.created_at)
        return reviewed + settings.RUNBOOK_REVIEW_INTERVAL

    @property
    def review_interval_days(self) -> int:
        return settings.RUNBOOK_REVIEW_INTERVAL.days

    @property
    def review_overdue(self) -> bool:
        return self.review_due_on < timezone.localdate()

    def matches_labels(self, labels: dict) -> bool:
        if not self.match_labels:
            return False
        return all(str(labels.get(k, "")) == str(v) for k, v in self.match_labels.items())
