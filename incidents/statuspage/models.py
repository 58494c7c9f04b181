"""The status page's own data. It links to the core (services, incidents, maintenance windows)
and never the other way round: the core has no idea a status page exists.

Only what is here, plus the public updates of published incidents, is ever shown to the public.
"""

import secrets
import string

from django.db import models
from django.db.models import Q

from incidents import zones
from incidents.models import Incident, Maintenance, Service, StatusUpdate
from incidents.models.catalog import hex_colour

_ALPHABET = string.ascii_lowercase + string.digits


def new_code() -> str:
    """A Statuspage-style public id: 12 lowercase letters and digits. The integer keys stay internal."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(12))


class ComponentStatus(models.TextChoices):
    OPERATIONAL = "operational", "Operational"
    UNDER_MAINTENANCE = "under_maintenance", "Under maintenance"
    DEGRADED_PERFORMANCE = "degraded_performance", "Degraded performance"
    PARTIAL_OUTAGE = "partial_outage", "Partial outage"
    MAJOR_OUTAGE = "major_outage", "Major outage"


# How bad each state is: the worst one wins when several incidents and a window overlap.
STATUS_RANK = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.UNDER_MAINTENANCE: 1,
    ComponentStatus.DEGRADED_PERFORMANCE: 2,
    ComponentStatus.PARTIAL_OUTAGE: 3,
    ComponentStatus.MAJOR_OUTAGE: 4,
}
# Share of a period counted as downtime in the uptime percentage (Statuspage's own weighting).
DOWNTIME_WEIGHT = {ComponentStatus.MAJOR_OUTAGE: 1.0, ComponentStatus.PARTIAL_OUTAGE: 0.3}


def worst(statuses) -> str:
    return max(statuses, key=lambda s: STATUS_RANK[ComponentStatus(s)], default=ComponentStatus.OPERATIONAL)


class Impact(models.TextChoices):
    NONE = "none", "None"
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"
    CRITICAL = "critical", "Critical"


IMPACT_RANK = {Impact.NONE: 0, Impact.MINOR: 1, Impact.MAJOR: 2, Impact.CRITICAL: 3}
# The incident impact a component state implies.
IMPACT_FOR_STATUS = {
    ComponentStatus.OPERATIONAL: Impact.NONE,
    ComponentStatus.UNDER_MAINTENANCE: Impact.NONE,
    ComponentStatus.DEGRADED_PERFORMANCE: Impact.MINOR,
    ComponentStatus.PARTIAL_OUTAGE: Impact.MAJOR,
    ComponentStatus.MAJOR_OUTAGE: Impact.CRITICAL,
}


class PageSettings(models.Model):
    """Branding and contact details of the public page (one row)."""

    code = models.CharField(max_length=12, unique=True, default=new_code, editable=False, help_text="The page id in the JSON API.")
    name = models.CharField(max_length=120, default="Service status")
    url = models.URLField(blank=True, help_text="Public address of the page; SITE_URL + /status/ when empty.")
    time_zone = models.CharField(max_length=60, default=zones.STATUS_PAGE_DEFAULT, validators=[zones.validate_zone],
                                 help_text="IANA name, given in the JSON API.")
    logo = models.FileField(upload_to="statuspage/", blank=True, help_text="SVG or PNG, shown in the header.")
    logo_url = models.URLField(blank=True, help_text="Or a logo hosted elsewhere.")
    brand_colour = models.CharField(max_length=7, default="#2f5bd3", validators=[hex_colour])
    header_background = models.CharField(max_length=7, default="#111827", validators=[hex_colour])
    header_text_colour = models.CharField(max_length=7, default="#ffffff", validators=[hex_colour])
    support_email = models.EmailField(blank=True)
    support_url = models.URLField(blank=True)
    about = models.TextField(blank=True, max_length=2000, help_text="Markdown, shown above the components.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "page settings"

    def __str__(self):
        return self.name


class FooterLink(models.Model):
    page = models.ForeignKey(PageSettings, on_delete=models.CASCADE, related_name="footer_links")
    label = models.CharField(max_length=60)
    url = models.URLField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return self.label


class ComponentGroup(models.Model):
    code = models.CharField(max_length=12, unique=True, default=new_code, editable=False)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=2000)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class StatusComponent(models.Model):
    """A service as the public sees it. `status` is derived (see services.component_refresh);
    `override` pins it by hand."""

    code = models.CharField(max_length=12, unique=True, default=new_code, editable=False)
    service = models.OneToOneField(Service, on_delete=models.PROTECT, related_name="status_component")
    name = models.CharField(max_length=120, help_text="Public name.")
    description = models.TextField(blank=True, max_length=2000, help_text="Public description.")
    group = models.ForeignKey(ComponentGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="components")
    position = models.PositiveSmallIntegerField(default=0)
    showcase = models.BooleanField(default=True, help_text="Show 90-day uptime bars.")
    only_show_if_degraded = models.BooleanField(default=False)
    degrade_on_alert = models.BooleanField(
        default=False, help_text="An incident opened by an alert on this service marks the component degraded at once."
    )
    override = models.CharField(max_length=24, choices=ComponentStatus.choices, blank=True, help_text="Pins the state by hand.")
    status = models.CharField(max_length=24, choices=ComponentStatus.choices, default=ComponentStatus.OPERATIONAL, editable=False)
    start_date = models.DateField(null=True, blank=True, help_text="Uptime is counted from this day.")
    archived_at = models.DateTimeField(
        null=True, blank=True, help_text="Archived: off the public page; past incidents still name it.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]
        permissions = [("publish_public_update", "Can publish public status page updates")]

    def __str__(self):
        return self.name


class ComponentStatusPeriod(models.Model):
    """A stretch of time a component spent in a non-operational state: the uptime bars' source."""

    component = models.ForeignKey(StatusComponent, on_delete=models.PROTECT, related_name="periods")
    status = models.CharField(max_length=24, choices=ComponentStatus.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["component", "started_at"]
        indexes = [models.Index(fields=["started_at"]), models.Index(fields=["ended_at"])]
        constraints = [
            models.UniqueConstraint(fields=["component"], condition=Q(ended_at__isnull=True), name="one_open_period_per_component"),
        ]

    def __str__(self):
        return f"{self.component} {self.status} {self.started_at:%Y-%m-%d %H:%M}"


class PublicIncident(models.Model):
    """An incident that is on the public page. It exists from the first public update on:
    incidents without one never show."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, primary_key=True, related_name="public")
    code = models.CharField(max_length=12, unique=True, default=new_code, editable=False)
    name = models.CharField(max_length=200, help_text="The public title.")
    impact = models.CharField(max_length=10, choices=Impact.choices, default=Impact.NONE)
    published_at = models.DateTimeField()
    postmortem_summary = models.TextField(blank=True, max_length=20_000)
    postmortem_url = models.URLField(blank=True, max_length=500)
    postmortem_published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at"]

    def __str__(self):
        return self.name

    @property
    def impact_text(self) -> str:
        return "No impact" if self.impact == Impact.NONE else f"{self.get_impact_display()} impact"

    @property
    def resolved_unannounced(self) -> bool:
        """Resolved, but its newest public update says otherwise: the page adds a "Resolved"
        entry, so a reader never sees a closed incident still "Identified". Reads the
        prefetched `incident.public_updates` (newest first)."""
        if self.incident.status != "resolved":
            return False
        updates = getattr(self.incident, "public_updates", None) or []
        return not updates or updates[0].status != "resolved"


class ComponentImpact(models.Model):
    """How one incident affects one component, set by the communications lead (or by an alert)."""

    class Source(models.TextChoices):
        STAFF = "staff", "Staff"
        ALERT = "alert", "Alert automation"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="component_impacts")
    component = models.ForeignKey(StatusComponent, on_delete=models.PROTECT, related_name="impacts")
    status = models.CharField(max_length=24, choices=ComponentStatus.choices)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.STAFF)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["incident", "component"], name="one_impact_per_incident_component")]

    def __str__(self):
        return f"{self.incident_id} {self.component} {self.status}"


class PublicUpdateInfo(models.Model):
    """The public face of a core StatusUpdate: its public id and the component changes it made."""

    update = models.OneToOneField(StatusUpdate, on_delete=models.CASCADE, primary_key=True, related_name="public_info")
    code = models.CharField(max_length=12, unique=True, default=new_code, editable=False)
    affected_components = models.JSONField(default=list, blank=True)

    def __str__(self):
        return self.code


class MaintenanceRecord(models.Model):
    """The status page's side of a core Maintenance window: its public id."""

    maintenance = models.OneToOneField(Maintenance, on_delete=models.CASCADE, primary_key=True, related_name="statuspage")
    code = models.CharField(max_length=12, unique=True, default=new_code, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.code


class MaintenanceUpdate(models.Model):
    """One step of a window (scheduled, in progress, verifying, completed), posted publicly."""

    maintenance = models.ForeignKey(Maintenance, on_delete=models.CASCADE, related_name="public_updates")
    code = models.CharField(max_length=12, unique=True, default=new_code, editable=False)
    status = models.CharField(max_length=20)
    body = models.TextField(max_length=10_000)
    affected_components = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["maintenance", "status"], name="one_update_per_maintenance_step")]

    def __str__(self):
        return f"{self.maintenance_id} {self.status}"


class Subscriber(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"

    code = models.CharField(max_length=12, unique=True, default=new_code, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    email = models.EmailField(blank=True)
    endpoint = models.URLField(blank=True, max_length=500)
    components = models.ManyToManyField(StatusComponent, blank=True, related_name="subscribers", help_text="None: all.")
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["email"], condition=Q(kind="email", unsubscribed_at__isnull=True), name="one_live_email_subscription"),
            models.UniqueConstraint(fields=["endpoint"], condition=Q(kind="webhook", unsubscribed_at__isnull=True), name="one_live_webhook_subscription"),
        ]

    def __str__(self):
        return self.email or self.endpoint

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None
