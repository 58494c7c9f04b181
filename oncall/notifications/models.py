"""Contact methods, notification rules, stakeholder subscriptions, and one row per delivery.

Every delivery attempt is a `Notification` row with a due time; workers claim rows by
conditional update (pending -> sending -> sent / failed), so a duplicate task, the sweep racing
the ETA task or a redelivered message never sends twice."""

import secrets
import uuid
from base64 import b64encode
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return "whsec_" + b64encode(secrets.token_bytes(32)).decode()


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    SLACK = "slack", "Slack incoming webhook"
    TEAMS = "teams", "Microsoft Teams webhook"
    WEBHOOK = "webhook", "Generic webhook (Standard Webhooks)"


# Channels a stakeholder subscription can use (a generic webhook is for machines, not people).
SUBSCRIPTION_KINDS = (ChannelKind.SLACK, ChannelKind.TEAMS, ChannelKind.EMAIL)


class ContactMethod(models.Model):
    """Where one person can be reached."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_methods")
    kind = models.CharField(max_length=20, choices=ChannelKind.choices)
    label = models.CharField(max_length=80, blank=True, help_text="e.g. Work email, Team Slack.")
    target = models.CharField(max_length=2000, help_text="An email address, or the webhook URL.")
    secret = models.CharField(
        max_length=100, default=new_webhook_secret, editable=False,
        help_text="Signs generic webhook deliveries (Standard Webhooks).",
    )
    is_active = models.BooleanField(default=True)
    rate_limit_count = models.PositiveSmallIntegerField(
        default=5, help_text="At most this many messages per window; the rest are folded into one digest."
    )
    rate_limit_window = models.DurationField(default=timedelta(minutes=10))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "kind", "pk"]
        permissions = [("manage_any_contactmethod", "Can manage anyone's contact methods and rules")]
        constraints = [
            models.CheckConstraint(condition=Q(rate_limit_count__gte=1), name="contact_method_rate_limit_positive"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.display_target}"

    @property
    def display_target(self) -> str:
        """The target without URL paths, which carry the webhook's credentials."""
        return mask_url(self.target)


def mask_url(target: str) -> str:
    """A webhook URL with its secret part hidden, e.g. `https://hooks.slack.com/services/T0…/…XyZ`:
    the host, the first path segment, two characters of the next and the last three, enough to
    tell two webhooks apart and never enough to use one. The query is dropped (it may hold a
    token). Other targets (email addresses) as they are."""
    scheme, sep, rest = target.partition("://")
    if not sep:
        return target
    host, _, path = rest.partition("/")
    path = path.split("?", 1)[0].split("#", 1)[0]
    segments = [s for s in path.split("/") if s]
    if len(segments) < 3 or len(path) < 16:
        return f"{scheme}://{host}/…"
    return f"{scheme}://{host}/{segments[0]}/{segments[1][:2]}…/…{path.rstrip('/')[-3:]}"


class NotificationRule(models.Model):
    """Notify this contact method N minutes after the first page (0: at once). Delayed steps
    are skipped when the incident was acknowledged meanwhile."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_rules")
    contact_method = models.ForeignKey(ContactMethod, on_delete=models.CASCADE, related_name="rules")
    delay_minutes = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["user", "delay_minutes", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["contact_method", "delay_minutes"], name="one_rule_per_method_and_delay"),
        ]

    def __str__(self):
        return f"{self.contact_method} after {self.delay_minutes} min"


class Frequency(models.TextChoices):
    REALTIME = "realtime", "Real time"
    HOURLY = "hourly", "Hourly digest while open"


class StakeholderSubscription(models.Model):
    """A channel that hears about incidents of some severities, at once or hourly."""

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=ChannelKind.choices)
    target = models.CharField(max_length=2000, help_text="Webhook URL, or email addresses separated by commas.")
    secret = models.CharField(max_length=100, default=new_webhook_secret, editable=False)
    severities = models.ManyToManyField("incidents.Severity", blank=True, help_text="None selected: every severity.")
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.REALTIME)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def display_target(self) -> str:
        return mask_url(self.target)


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    FOLDED = "folded", "Folded into a digest"


class Composer(models.TextChoices):
    """How the message is produced at send time."""

    STORED = "", "As stored"
    RATE_DIGEST = "rate_digest", "Rate-limit digest"
    SUBSCRIPTION_DIGEST = "subscription_digest", "Hourly subscription digest"


class Notification(models.Model):
    """One message to one destination, and every attempt to deliver it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    dedup_key = models.CharField(max_length=200)
    step = models.PositiveIntegerField(default=0, help_text="The rule's delay in minutes.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    contact_method = models.ForeignKey(
        ContactMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    subscription = models.ForeignKey(
        StakeholderSubscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    channel = models.CharField(max_length=20, choices=ChannelKind.choices)
    target = models.CharField(max_length=2000, help_text="Masked copy of where it went.")
    message = models.JSONField(default=dict)
    composer = models.CharField(max_length=30, choices=Composer.choices, default=Composer.STORED, blank=True)
    cancel_if_acknowledged = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING)
    due_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=5)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.TextField(blank=True)
    error = models.TextField(blank=True)
    digest = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="folded",
        help_text="The digest this message was folded into by the rate limit.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedup_key", "contact_method", "step"], condition=Q(contact_method__isnull=False),
                name="one_notification_per_key_method_step",
            ),
            models.UniqueConstraint(
                fields=["dedup_key", "subscription", "step"], condition=Q(subscription__isnull=False),
                name="one_notification_per_key_subscription_step",
            ),
        ]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(status__in=["pending", "sending"]), name="notification_due"),
            models.Index(fields=["contact_method", "claimed_at"], name="notification_rate_window"),
            models.Index(fields=["incident", "-created_at"], name="notification_incident"),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} -> {self.target}: {self.status}"

    def get_absolute_url(self):
        return reverse("notifications:detail", kwargs={"public_id": self.public_id})

    @property
    def title(self) -> str:
        return self.message.get("title", "")


class ReminderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"


class UpdateReminder(models.Model):
    """The next status-update reminder for an open incident (a durable due row).

    `sequence` counts reminders sent; the claim compares it, so each reminder fires once."""

    incident = models.OneToOneField("incidents.Incident", on_delete=models.CASCADE, related_name="update_reminder")
    status = models.CharField(max_length=10, choices=ReminderStatus.choices, default=ReminderStatus.PENDING)
    due_at = models.DateTimeField()
    sequence = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["due_at"], condition=Q(status="pending"), name="update_reminder_due")]

    def __str__(self):
        return f"{self.incident_id} reminder #{self.sequence} due {self.due_at:%Y-%m-%d %H:%M}"
