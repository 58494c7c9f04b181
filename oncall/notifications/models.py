"""Contact methods, notification rules, stakeholder subscriptions and update reminders.

What is sent to them is a row of the one delivery layer (`delivery.models.Delivery`, purposes
`paging` and `stakeholders`, registered in `oncall.notifications.purposes`)."""

import secrets
import uuid
from base64 import b64encode
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return "whsec_" + b64encode(secrets.token_bytes(32)).decode()


class ChannelKind(models.TextChoices):
    """Every contact-method kind, in one place (each is a channel of `delivery.channels`)."""

    EMAIL = "email", "Email"
    SLACK = "slack", "Slack incoming webhook"
    TEAMS = "teams", "Microsoft Teams webhook"
    WEBHOOK = "webhook", "Generic webhook (Standard Webhooks)"
    NTFY = "ntfy", "ntfy push"
    SMS = "sms", "SMS"
    VOICE = "voice", "Voice call"
    # Sent by the chat core (chatops) as its bot: a direct message to the person's linked chat
    # account, or a post in a channel for a stakeholder subscription, with interactive buttons.
    SLACK_APP = "slack_app", "Slack app (direct message / channel)"
    MATTERMOST_APP = "mattermost_app", "Mattermost bot (direct message / channel)"


# Kinds whose target is a phone number: paged only once verified, and a STOP reply opts out.
PHONE_KINDS = (ChannelKind.SMS, ChannelKind.VOICE)
# Kinds whose `secret` is a credential the person gives (an ntfy access token), not a signing key.
TOKEN_KINDS = (ChannelKind.NTFY,)


# Channels a stakeholder subscription can use (a generic webhook is for machines, not people).
SUBSCRIPTION_KINDS = (ChannelKind.SLACK, ChannelKind.TEAMS, ChannelKind.EMAIL, ChannelKind.SLACK_APP, ChannelKind.MATTERMOST_APP)
# Kinds the chat core sends as its bot (oncall.notifications.routes): a person's linked account.
CHAT_APP_KINDS = (ChannelKind.SLACK_APP, ChannelKind.MATTERMOST_APP)


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
    failing_since = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="Set when a delivery to it failed for good; cleared by the next delivery that gets through.",
    )
    last_error = models.TextField(blank=True, editable=False, help_text="Why the last delivery failed for good.")
    # Phone numbers (SMS, voice): paged only once verified by a code sent to the number.
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    verify_code_hash = models.CharField(max_length=128, blank=True, editable=False)
    verify_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    verify_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    opted_out_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="The number replied STOP: no SMS until it replies START.",
    )
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

    @property
    def is_failing(self) -> bool:
        return self.failing_since is not None

    @property
    def is_phone(self) -> bool:
        return self.kind in PHONE_KINDS

    @property
    def is_pageable(self) -> bool:
        """Whether paging may use it: active, and for a phone number verified and not opted out."""
        return self.is_active and (not self.is_phone or (self.verified_at is not None and self.opted_out_at is None))


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


class RuleUrgency(models.TextChoices):
    """Which incidents a rule is for: a severity's urgency (`incidents.models.Urgency`)."""

    HIGH = "high", "High urgency"
    LOW = "low", "Low urgency"


class NotificationRule(models.Model):
    """Notify this contact method N minutes after the first page (0: at once), for incidents of
    one urgency (PagerDuty's high- and low-urgency rules; someone with no low-urgency rule is
    reached by their high-urgency rules, in working hours). Delayed steps are skipped when the
    incident was acknowledged meanwhile."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_rules")
    contact_method = models.ForeignKey(ContactMethod, on_delete=models.CASCADE, related_name="rules")
    delay_minutes = models.PositiveIntegerField(default=0)
    urgency = models.CharField(max_length=4, choices=RuleUrgency.choices, default=RuleUrgency.HIGH)

    class Meta:
        ordering = ["user", "urgency", "delay_minutes", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["contact_method", "urgency", "delay_minutes"], name="one_rule_per_method_urgency_delay"),
        ]

    def __str__(self):
        return f"{self.contact_method} after {self.delay_minutes} min ({self.get_urgency_display().lower()})"


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
    include_drills = models.BooleanField(
        default=False, help_text="Also hear about drills and game days (marked [DRILL]); unticked, drills never reach it.")
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


class UpdateReminderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"


class UpdateReminder(models.Model):
    """The next status-update reminder for an open incident (a durable due row).

    `sequence` counts reminders sent; the claim compares it, so each reminder fires once."""

    incident = models.OneToOneField("incidents.Incident", on_delete=models.CASCADE, related_name="update_reminder")
    status = models.CharField(max_length=10, choices=UpdateReminderStatus.choices, default=UpdateReminderStatus.PENDING)
    due_at = models.DateTimeField()
    sequence = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["due_at"], condition=Q(status="pending"), name="update_reminder_due")]

    def __str__(self):
        return f"{self.incident_id} reminder #{self.sequence} due {self.due_at:%Y-%m-%d %H:%M}"


class ReplyCode(models.Model):
    """The short code an SMS page is answered by ("Reply 4 17 to acknowledge"): per phone
    contact method, reused round-robin (1-99), pointing at the page's delivery and incident."""

    contact_method = models.ForeignKey(ContactMethod, on_delete=models.CASCADE, related_name="reply_codes")
    code = models.PositiveSmallIntegerField()
    delivery_id = models.BigIntegerField(help_text="The delivery.Delivery row it answers.")
    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact_method", "code"], name="one_reply_code_per_method")]

    def __str__(self):
        return f"{self.code} -> delivery {self.delivery_id}"
