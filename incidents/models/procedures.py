"""What the teams' procedures add to the catalog: incident types with a path of their own
(a default severity, an extra checklist with owners, required roles, whether the public may see
them, whether a postmortem is required, whether it is a drill)."""

from django.core.exceptions import ValidationError
from django.db import models

from .catalog import Severity
from .roles import Role


class IncidentType(models.Model):
    """A kind of incident with its own path (service outage, suspected data breach, drill...).
    Escalation policies that run for a type in addition to the services' live in `oncall`."""

    key = models.SlugField(max_length=40, unique=True, help_text="Short code used by the API and alert rules.")
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True, help_text="When to use this type.")
    default_severity = models.ForeignKey(
        Severity, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Offered when declaring; used when no severity is given.")
    public = models.BooleanField(default=True, help_text="Incidents of this type may appear on the public status page.")
    postmortem_required = models.BooleanField(
        default=False, help_text="Every incident of this type gets a postmortem, whatever its severity.")
    is_drill = models.BooleanField(
        default=False, help_text="A drill: pages for real, every message marked [DRILL], never public, left out of metrics.")
    restricted = models.BooleanField(
        default=False, help_text="Every incident of this type is declared restricted (to its responders and the groups below).")
    access_groups = models.ManyToManyField(
        "auth.Group", blank=True, related_name="+", help_text="Groups that may read its incidents while they are restricted.")
    required_roles = models.JSONField(
        default=list, blank=True, help_text='Roles that must be filled, e.g. ["commander", "comms_lead"].')
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True, help_text="Inactive types cannot be chosen.")

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name

    @property
    def may_be_public(self) -> bool:
        return self.public and not self.is_drill and not self.restricted

    def clean(self):
        roles = self.required_roles
        if not isinstance(roles, list) or any(r not in Role.values for r in roles):
            raise ValidationError({"required_roles": f"A list of roles out of: {', '.join(Role.values)}."})
        if self.is_drill and self.public:
            raise ValidationError({"public": "A drill never appears on the status page."})
        if self.restricted and self.public:
            raise ValidationError({"public": "A restricted type never appears on the status page."})


class IncidentTypeChecklistItem(models.Model):
    """A playbook line of the type (isolate, preserve evidence, notify legal...), with the role
    that owns it; copied onto each incident of the type."""

    incident_type = models.ForeignKey(IncidentType, on_delete=models.CASCADE, related_name="checklist_items")
    text = models.CharField(max_length=200)
    owner_role = models.CharField(max_length=20, blank=True, choices=Role.choices, help_text="The role that owns it (empty: anyone).")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["incident_type", "position", "pk"]

    def __str__(self):
        return self.text
