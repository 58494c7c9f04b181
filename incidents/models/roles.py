"""The incident roles (the procedures' four, and plain responders)."""

from django.db import models


class Role(models.TextChoices):
    COMMANDER = "commander", "Incident commander"
    TECH_LEAD = "tech_lead", "Technical lead"
    COMMS_LEAD = "comms_lead", "Communications lead"
    SCRIBE = "scribe", "Scribe"
    RESPONDER = "responder", "Responder"
