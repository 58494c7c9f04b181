import functools

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from .catalog import Service, Severity
from .procedures import IncidentType
from .roles import Role


class IncidentStatus(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"


# The allowed moves. Reopening is resolved -> investigating.
TRANSITIONS = {
    IncidentStatus.INVESTIGATING: {IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING, IncidentStatus.RESOLVED},
    IncidentStatus.IDENTIFIED: {IncidentStatus.INVESTIGATING, IncidentStatus.MONITORING, IncidentStatus.RESOLVED},
    IncidentStatus.MONITORING: {IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, IncidentStatus.RESOLVED},
    IncidentStatus.RESOLVED: {IncidentStatus.INVESTIGATING},
}


def can_transition(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(IncidentStatus(current), set())


class DetectionSource(models.TextChoices):
    ALERT = "alert", "Automated alert"
    MONITORING = "monitoring", "Monitoring / dashboards"
    CUSTOMER = "customer", "Customer report"
    STAFF = "staff", "Staff observation"


class IncidentCounter(models.Model):
    """Per-day sequence behind INC-YYYYMMDD-NNN; incremented under a row lock."""

    day = models.DateField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.day}: {self.last}"


# The override: reads restricted incidents outside their responders, every read audited. Given
# to named people only (the built-in groups never carry it: see incidents.groups).
READ_RESTRICTED = "incidents.read_restricted_incident"
PAGED_PURPOSE = "paging"  # delivery rows of this purpose name the people paged for an incident


def insider_q(user, prefix: str = "") -> Q:
    """Incidents on which `user` is a responder: declared it, holds a role or responds on it,
    was paged for it, or is in one of its named groups. `prefix` is the path to the incident."""
    from delivery.models import Delivery

    member = IncidentMember.objects.filter(incident=OuterRef(f"{prefix}pk"), user=user)
    paged = Delivery.objects.filter(
        incident=OuterRef(f"{prefix}pk"), user=user, purpose=PAGED_PURPOSE)
    grouped = Incident.access_groups.through.objects.filter(incident=OuterRef(f"{prefix}pk"), group__user=user)
    return Q(**{f"{prefix}declared_by": user}) | Q(Exists(member)) | Q(Exists(paged)) | Q(Exists(grouped))


def visible_q(user, prefix: str = "") -> Q | None:
    """The one visibility rule: None (everything) for holders of the override, otherwise the
    unrestricted incidents plus the restricted ones `user` responds to. Anonymous readers (the
    status page, feeds, digests): unrestricted only."""
    if user is not None and getattr(user, "is_active", False) and user.has_perm(READ_RESTRICTED):
        return None
    open_to_all = Q(**{f"{prefix}restricted": False})
    if user is None or not getattr(user, "is_authenticated", False):
        return open_to_all
    return open_to_all | insider_q(user, prefix)


class IncidentQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status=IncidentStatus.RESOLVED)

    def visible_to(self, user):
        """The incidents `user` may know exist (None: the public). Every read path goes through
        this, or through `visible_through` for rows that belong to an incident."""
        rule = visible_q(user)
        return self if rule is None else self.filter(rule)

    def hidden_from(self, user):
        """The restricted incidents `user` may not know exist (the complement of `visible_to`)."""
        rule = visible_q(user)
        return self.none() if rule is None else self.filter(restricted=True).exclude(rule)


def visible_through(queryset, user, path: str = "incident"):
    """`queryset` of rows that belong to an incident through `path` (e.g. "incident",
    "postmortem__incident"; "" for incidents themselves), less the rows of incidents `user` may
    not see. Rows without an incident stay."""
    rule = visible_q(user)
    if rule is None:
        return queryset
    if not path:
        return queryset.filter(rule)
    hidden = Incident.objects.filter(restricted=True).exclude(rule)
    return queryset.exclude(**{f"{path}__in": hidden.values("pk")})


@functools.cache
def incident_path(model) -> str | None:
    """How rows of `model` reach their incident: "" (an incident), a field path, or None."""
    if model is Incident:
        return ""
    hops = []
    for field in model._meta.get_fields():
        if not (field.concrete and (field.many_to_one or field.one_to_one)) or field.related_model is None:
            continue
        if field.related_model is Incident:
            return field.name
        for inner in field.related_model._meta.get_fields():
            if inner.concrete and (inner.many_to_one or inner.one_to_one) and inner.related_model is Incident:
                hops.append(f"{field.name}__{inner.name}")
    return hops[0] if hops else None


class Incident(models.Model):
    number = models.CharField(max_length=24, unique=True, editable=False)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True, max_length=10_000)
    impact = models.TextField(blank=True, max_length=10_000)
    severity = models.ForeignKey(Severity, on_delete=models.PROTECT, related_name="incidents")
    type = models.ForeignKey(IncidentType, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents")
    services = models.ManyToManyField(Service, blank=True, related_name="incidents")
    status = models.CharField(max_length=20, choices=IncidentStatus.choices, default=IncidentStatus.INVESTIGATING)
    detection_source = models.CharField(max_length=20, choices=DetectionSource.choices, default=DetectionSource.STAFF)

    declared_at = models.DateTimeField(db_index=True)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(help_text="When impact began (may be before declaration).")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_acknowledged_at = models.DateTimeField(
        null=True, blank=True, help_text="The current acknowledgement; cleared by a reopen (acknowledged_at keeps the first, for MTTA)."
    )
    reopened_at = models.DateTimeField(null=True, blank=True)
    identified_at = models.DateTimeField(null=True, blank=True)
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution_summary = models.TextField(blank=True, max_length=10_000)
    false_positive = models.BooleanField(default=False)
    root_cause_tag = models.SlugField(max_length=60, blank=True, help_text="Groups repeat incidents.")
    is_drill = models.BooleanField(
        default=False, editable=False,
        help_text="Declared as a drill (its type's flag then): fixed for good, so editing a type never moves past incidents "
                  "in or out of the metrics.")
    war_room_url = models.URLField(
        max_length=500, blank=True, help_text="The conference bridge (started from the severity's pattern, or pasted).")
    restricted = models.BooleanField(
        default=False, db_index=True,
        help_text="Only its responders (declarer, roles, responders, paged people) and its groups know it exists.")
    access_groups = models.ManyToManyField(
        "auth.Group", blank=True, related_name="+", help_text="Groups that may read it while it is restricted.")
    version = models.PositiveIntegerField(default=0, help_text="Bumped by every state change.")
    updated_at = models.DateTimeField(auto_now=True)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-declared_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "-declared_at"]),
            models.Index(fields=["severity", "-declared_at"]),
        ]
        permissions = [
            ("respond_incident", "Can respond to incidents"),
            ("read_restricted_incident", "Can read restricted incidents (every read is audited)"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    def get_absolute_url(self):
        return reverse("incidents:detail", kwargs={"number": self.number})

    @property
    def is_acknowledged(self) -> bool:
        """Acknowledged now: a reopen asks for a new acknowledgement."""
        return self.last_acknowledged_at is not None

    @property
    def may_be_public(self) -> bool:
        """Whether the status page may show it: never a drill, nor a type kept off the page."""
        return not self.is_drill and not self.restricted and (self.type_id is None or self.type.may_be_public)

    @property
    def postmortem_required(self) -> bool:
        """The severity's rule, or the type's (a drill follows its type only)."""
        if self.type_id is not None and (self.is_drill or self.type.postmortem_required):
            return self.type.postmortem_required
        return self.severity.postmortem_required

    @property
    def is_open(self) -> bool:
        return self.status != IncidentStatus.RESOLVED

    def can_transition_to(self, new: str) -> bool:
        return can_transition(self.status, new)

    @property
    def allowed_statuses(self) -> list[str]:
        return [s for s in IncidentStatus.values if self.can_transition_to(s)]


class IncidentMember(models.Model):
    """A person on the incident: one of the four roles, or a plain responder."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="incident_memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    assigned_at = models.DateTimeField(auto_now_add=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["incident", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "role"], condition=~Q(role="responder"), name="one_holder_per_role"
            ),
            models.UniqueConstraint(fields=["incident", "user", "role"], name="unique_member_role"),
        ]

    def __str__(self):
        return f"{self.incident.number} {self.get_role_display()}: {self.user}"


class IncidentChecklistItem(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="checklist")
    text = models.CharField(max_length=200)
    owner_role = models.CharField(max_length=20, blank=True, choices=Role.choices, help_text="The role that owns it.")
    position = models.PositiveSmallIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["incident", "position", "pk"]

    def __str__(self):
        return self.text


class LinkKind(models.TextChoices):
    CHAT = "chat", "Chat thread"
    TICKET = "ticket", "Ticket"
    DASHBOARD = "dashboard", "Dashboard"
    DOCUMENT = "document", "Document"
    OTHER = "other", "Other"


class IncidentLink(models.Model):
    """A place the incident is worked on elsewhere: its chat thread, tickets, dashboards, documents."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(max_length=20, choices=LinkKind.choices, default=LinkKind.OTHER)
    title = models.CharField(max_length=200)
    url = models.URLField(max_length=1000)
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["incident", "kind", "pk"]

    def __str__(self):
        return f"{self.incident_id} {self.title}"
