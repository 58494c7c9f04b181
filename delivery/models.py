"""`Delivery`: one message to one destination for one purpose, and every attempt to send it.

Everything that leaves the portal (a page, a stakeholder message, a status-page subscriber's
email or webhook, a postmortem reminder, a digest, a handoff report) is one of these rows before
it is sent (DESIGN.md: durable work). Rows move pending -> sending -> sent / failed / cancelled
/ folded by conditional updates only (`delivery.outbox`), so a duplicate task, the sweep racing
the fast path, or a redelivered message never sends twice.

Design notes:
- `purpose` names a registered `delivery.purposes.Purpose`; `kind` says what the message is
  within it (a test, a digest, a confirmation...), for the purpose's composer and the pages.
- `destination_id` is the purpose's own row (a contact method, a stakeholder subscription, a
  status-page subscriber, a user): the purpose resolves it to the real address and signing
  secret at send time, so secrets are never copied here and a disabled or deleted destination
  cancels what is pending. `target` is the masked copy shown on pages.
- `incident` is a real foreign key (by string, so nothing here imports `incidents`): the
  incident page, the API and the admin join it, and deleting an incident deletes its rows.
  Only this app's migrations point at `incidents`; `incidents` never migrates against this app,
  so the migration graph has no cycle.
- One row per (purpose, dedup key, destination, step): `step` separates the steps of one
  message (a rule's delay in minutes, the n-th hourly digest).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    FOLDED = "folded", "Folded into a digest"


OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


class Delivery(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    purpose = models.CharField(max_length=40, help_text="The registered purpose that composes and sends it.")
    kind = models.CharField(max_length=40, blank=True, help_text="What it is within its purpose (empty: a plain message).")
    channel = models.CharField(max_length=30, help_text="The channel kind (delivery.channels).")
    destination_id = models.BigIntegerField(default=0, help_text="The purpose's own destination row.")
    target = models.CharField(max_length=2000, help_text="Masked copy of where it goes.")
    message = models.JSONField(default=dict)
    dedup_key = models.CharField(max_length=200)
    step = models.PositiveIntegerField(default=0)
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries",
        help_text="The person it is for, when there is one.",
    )
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    due_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=5)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.TextField(blank=True, help_text="The start of the receiver's answer.")
    error = models.TextField(blank=True)
    digest = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="folded",
        help_text="The digest this message was folded into by a rate limit.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["purpose", "dedup_key", "destination_id", "step"], name="one_delivery_per_key"),
            models.CheckConstraint(condition=Q(max_attempts__gte=1), name="delivery_max_attempts_positive"),
        ]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(status__in=["pending", "sending"]), name="delivery_due"),
            models.Index(fields=["purpose", "destination_id", "claimed_at"], name="delivery_destination_window"),
            models.Index(fields=["incident", "-created_at"], name="delivery_incident"),
            models.Index(fields=["user", "status", "-updated_at"], name="delivery_user_status"),
        ]

    def __str__(self):
        return f"{self.purpose} {self.channel} -> {self.target}: {self.status}"

    @property
    def title(self) -> str:
        return self.message.get("title", "")

    @property
    def message_id(self) -> str:
        """Stable across attempts: receivers de-duplicate a re-send by it (Standard Webhooks'
        `webhook-id`, the `Idempotency-Key` header, the email's X-Portal-Notification)."""
        return f"msg_{self.public_id.hex}"
