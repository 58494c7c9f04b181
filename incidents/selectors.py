"""Read paths for incidents: what pages and the API show, with their joins decided here."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from .audit import audit_record
from .models import Incident, IncidentMember, IncidentStatus, IncidentType, Role, Severity, StatusUpdate, TimelineEvent
from .models.incident import insider_q
from .rules import RESPOND


def incident_queryset() -> QuerySet[Incident]:
    """Incidents with what a list row shows, in a constant number of queries."""
    return Incident.objects.select_related("severity", "type", "declared_by", "acknowledged_by", "resolved_by").prefetch_related(
        "services", "links", "access_groups",
        Prefetch("members", queryset=IncidentMember.objects.select_related("user")),
    )


def incident_list(*, viewer, status=None, severity=None, service=None, since=None, until=None, q=None, open_only=False) -> QuerySet[Incident]:
    qs = incident_queryset().visible_to(viewer)
    if open_only:
        qs = qs.open()
    if status:
        qs = qs.filter(status=status)
    if severity:
        qs = qs.filter(severity__key=severity)
    if service:
        qs = qs.filter(services__slug=service)
    if since:
        qs = qs.filter(declared_at__date__gte=since)
    if until:
        qs = qs.filter(declared_at__date__lte=until)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(number__icontains=q) | Q(summary__icontains=q))
    return qs.distinct() if service else qs


def incident_detail(number: str, *, viewer) -> Incident:
    """The incident page's incident; one `viewer` may not see raises Incident.DoesNotExist (a
    404: it does not exist for them). A read of a restricted incident by someone outside its
    responders (the override) is audited."""
    incident = (
        incident_queryset().visible_to(viewer)
        .prefetch_related(
            Prefetch("timeline", queryset=TimelineEvent.objects.select_related("actor").order_by("occurred_at", "pk")),
            Prefetch("updates", queryset=StatusUpdate.objects.select_related("author")),
            "checklist",
        )
        .get(number=number)
    )
    restricted_read_audit(incident, viewer)
    return incident


def incident_for(viewer, **lookup) -> Incident:
    """One incident by any lookup, if `viewer` may see it (else Incident.DoesNotExist); reads
    from outside its responders audited."""
    incident = Incident.objects.visible_to(viewer).select_related("severity", "type").get(**lookup)
    restricted_read_audit(incident, viewer)
    return incident


def incident_visible(incident: Incident, viewer) -> bool:
    """Whether `viewer` (None: the public, a stakeholder list, a channel) may know of `incident`."""
    return Incident.objects.visible_to(viewer).filter(pk=incident.pk).exists()


def restricted_read_audit(incident: Incident, viewer) -> None:
    """Every read of a restricted incident by someone outside its responders and groups (only
    the override allows that) goes to the audit log."""
    if (incident.restricted and viewer is not None and getattr(viewer, "is_authenticated", False)
            and not Incident.objects.filter(pk=incident.pk).filter(insider_q(viewer)).exists()):
        audit_record(by=viewer, obj=incident, action="read",
                     message="Read a restricted incident from outside its responders (override).")


def incident_type_by_key(key: str) -> IncidentType | None:
    """An active type by its key ("" or unknown: None), e.g. to preset the declare form."""
    return IncidentType.objects.filter(key=key[:40], is_active=True).first() if key else None


def role_holders(incident: Incident) -> dict[str, object]:
    """role -> user for the four roles (from the prefetched members)."""
    return {m.role: m.user for m in incident.members.all() if m.role != Role.RESPONDER}


def missing_roles(incident: Incident) -> list[str]:
    """The type's required roles nobody holds yet (labels, in the type's order)."""
    if incident.type_id is None:
        return []
    held = {m.role for m in incident.members.all()}
    return [Role(r).label for r in incident.type.required_roles if r in Role.values and r not in held]


def responders(incident: Incident) -> list:
    return [m.user for m in incident.members.all() if m.role == Role.RESPONDER]


@dataclass
class AckClock:
    target: timedelta | None
    due_at: datetime | None
    acknowledged: bool
    breached: bool
    seconds_left: int | None

    @property
    def label(self) -> str:
        if self.acknowledged:
            return "Acknowledged"
        if self.target is None:
            return "Next business day"
        minutes = abs(self.seconds_left) // 60
        seconds = abs(self.seconds_left) % 60
        span = f"{minutes}m {seconds:02d}s"
        return f"Overdue by {span}" if self.breached else f"{span} left"


def ack_clock(incident: Incident, now: datetime | None = None) -> AckClock:
    now = now or timezone.now()
    target = incident.severity.ack_target
    start = incident.reopened_at or incident.declared_at  # a reopen starts a new clock
    if incident.last_acknowledged_at:
        breached = bool(target and incident.last_acknowledged_at - start > target)
        return AckClock(target, start + target if target else None, True, breached, None)
    if target is None:
        return AckClock(None, None, False, False, None)
    due = start + target
    left = int((due - now).total_seconds())
    return AckClock(target, due, False, left < 0, left)


def dashboard_open_by_severity(viewer) -> list[tuple[Severity, list[tuple[Incident, AckClock]]]]:
    now = timezone.now()
    incidents = list(incident_queryset().visible_to(viewer).open().order_by("severity__rank", "declared_at"))
    groups: dict[int, list] = {}
    for incident in incidents:
        groups.setdefault(incident.severity_id, []).append((incident, ack_clock(incident, now)))
    return [(sev, groups.get(sev.pk, [])) for sev in Severity.objects.filter(Q(is_active=True) | Q(pk__in=groups))]


def open_incident_count(viewer) -> int:
    return Incident.objects.visible_to(viewer).exclude(status=IncidentStatus.RESOLVED).count()


def severity_colours() -> list[tuple[int, str]]:
    return list(Severity.objects.order_by("pk").values_list("pk", "colour"))


def people_who_can_respond() -> QuerySet:
    """Active people holding `incidents.respond_incident` (through a group, directly, or as
    superusers): the ones offered as incident commander, by name."""
    app_label, codename = RESPOND.split(".")
    perm = Permission.objects.filter(codename=codename, content_type__app_label=app_label)
    return (
        get_user_model().objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__permissions__in=perm) | Q(user_permissions__in=perm))
        .distinct().order_by("first_name", "last_name", "username")
    )


@dataclass
class DrillRow:
    """One drill against its severity's targets: how long to acknowledge, mitigate, resolve,
    and who took part (held a role, responded, or acknowledged)."""

    incident: Incident
    to_acknowledge: timedelta | None
    ack_target: timedelta | None
    to_mitigate: timedelta | None
    to_resolve: timedelta | None
    resolve_target: timedelta | None
    people: list

    @property
    def ack_ok(self) -> bool | None:
        if self.to_acknowledge is None or self.ack_target is None:
            return None
        return self.to_acknowledge <= self.ack_target

    @property
    def resolve_ok(self) -> bool | None:
        if self.to_resolve is None or self.resolve_target is None:
            return None
        return self.to_resolve <= self.resolve_target


def drills_report(viewer, limit: int = 200) -> list[DrillRow]:
    """The latest drills, newest first, in a constant number of queries (they are kept out of
    every metric, so this is where they are measured)."""
    rows = []
    for incident in incident_queryset().visible_to(viewer).filter(is_drill=True).select_related("type")[:limit]:
        start = incident.declared_at
        people = []
        for user in [m.user for m in incident.members.all()] + ([incident.acknowledged_by] if incident.acknowledged_by_id else []):
            if user not in people:
                people.append(user)
        sev = incident.severity
        rows.append(DrillRow(
            incident=incident,
            to_acknowledge=incident.acknowledged_at - start if incident.acknowledged_at else None,
            ack_target=sev.ack_target,
            to_mitigate=incident.mitigated_at - start if incident.mitigated_at else None,
            to_resolve=incident.resolved_at - start if incident.resolved_at else None,
            resolve_target=sev.mttr_target,
            people=people,
        ))
    return rows
