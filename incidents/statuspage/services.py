"""Every status-page state change, one function per verb.

Component states are derived, never typed in: `components_refresh` recomputes them from the
override, the open incidents' component impacts and the active maintenance windows, records
the outage intervals the uptime bars are drawn from, and invalidates the public cache.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from incidents import archive
from incidents import services as core
from incidents.audit import audit_record
from incidents.communications import render_template, templates_for
from incidents.exceptions import InvalidInput, InvalidTransition
from incidents.model_update import model_update
from incidents.models import (
    CommunicationTemplate,
    Incident,
    IncidentStatus,
    Maintenance,
    MaintenanceStatus,
    Service,
    StatusUpdate,
    Visibility,
)
from incidents.models.maintenance import STARTED_STATUSES

from . import cache, notify
from .models import (
    IMPACT_FOR_STATUS,
    IMPACT_RANK,
    ComponentImpact,
    ComponentStatus,
    ComponentStatusPeriod,
    MaintenanceRecord,
    MaintenanceUpdate,
    PublicIncident,
    PublicUpdateInfo,
    StatusComponent,
    worst,
)
from .queue import maintenance_step_later

logger = logging.getLogger(__name__)



# --- components ----------------------------------------------------------------------------


def _derive(component: StatusComponent, impacts: list[str], in_maintenance: bool) -> str:
    if component.override:
        return component.override
    states = list(impacts)
    if in_maintenance:
        states.append(ComponentStatus.UNDER_MAINTENANCE)
    return worst(states)


@transaction.atomic
def components_refresh(component_ids: Iterable[int], *, now: datetime | None = None) -> list[tuple[StatusComponent, str, str]]:
    """Recompute the given components' states; returns (component, old, new) for each change."""
    ids = sorted(set(component_ids))
    if not ids:
        return []
    now = now or timezone.now()
    components = list(StatusComponent.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    impacts = defaultdict(list)
    for cid, status in (
        ComponentImpact.objects.filter(component_id__in=ids).exclude(incident__status=IncidentStatus.RESOLVED).values_list("component_id", "status")
    ):
        impacts[cid].append(status)
    maintained = set(
        StatusComponent.objects.filter(pk__in=ids, service__maintenances__in=Maintenance.objects.active(now)).values_list("pk", flat=True)
    )
    changes = []
    for component in components:
        new = _derive(component, impacts[component.pk], component.pk in maintained)
        if new == component.status:
            continue
        old = component.status
        ComponentStatusPeriod.objects.filter(component=component, ended_at__isnull=True).update(ended_at=now)
        if new != ComponentStatus.OPERATIONAL:
            ComponentStatusPeriod.objects.create(component=component, status=new, started_at=now)
        StatusComponent.objects.filter(pk=component.pk).update(status=new, updated_at=now)
        component.status = new
        changes.append((component, old, new))
    if changes:
        notify.fan_out_component_changes(changes, now=now)
        cache.bump_on_commit()
    return changes


def components_for_services(service_ids: Iterable[int]) -> list[int]:
    return list(StatusComponent.objects.filter(service_id__in=list(service_ids)).values_list("pk", flat=True))


@transaction.atomic
def component_archive(*, component: StatusComponent, by) -> StatusComponent:
    """Off the public page (and its JSON); incidents that affected it keep naming it."""
    archive.archive(component, by=by)
    cache.bump()
    return component


def component_restore(*, component: StatusComponent, by) -> StatusComponent:
    archive.restore(component, by=by)
    cache.bump()
    return component


def component_delete(*, component: StatusComponent, by) -> None:
    """Only a component without uptime history, incident impacts or subscribers."""
    archive.delete_unreferenced(component, by=by, what=f"The component “{component.name}”",
                                archive_hint=f"POST /api/v1/status-components/{component.code}/archive/")
    cache.bump()


COMPONENT_FIELDS = ("service", "name", "description", "group", "position", "showcase", "only_show_if_degraded", "degrade_on_alert",
                    "override", "start_date")


def _check_component(component: StatusComponent) -> None:
    if component.override and component.override not in ComponentStatus.values:
        raise InvalidInput("Unknown component state.", field="override")
    if not component.service_id:
        raise InvalidInput("Choose the service this component shows.", field="service")
    if StatusComponent.objects.filter(service_id=component.service_id).exclude(pk=component.pk).exists():
        raise InvalidInput("That service already has a component.", field="service")
    if not (component.name or "").strip():
        component.name = component.service.name


def _after_component_change(component: StatusComponent) -> None:
    components_refresh([component.pk])
    component.refresh_from_db()
    cache.bump_on_commit()


@transaction.atomic
def component_save(*, component: StatusComponent, by=None) -> StatusComponent:
    """Save a new component (admin, API, demo), then derive its state."""
    creating = component.pk is None
    _check_component(component)
    component.save()
    _after_component_change(component)
    audit_record(by=by, obj=component, action="added" if creating else "changed", message=f"for {component.service}")
    return component


@transaction.atomic
def component_update(*, component: StatusComponent, by=None, **changes) -> StatusComponent:
    """Change some of a component's fields (admin, API), then re-derive its state."""
    if "name" in changes and not (changes["name"] or "").strip():
        changes["name"] = (changes.get("service") or component.service).name
    changed = model_update(instance=component, fields=COMPONENT_FIELDS, data=changes)
    if changed:
        _check_component(component)
        _after_component_change(component)
        audit_record(by=by, obj=component, action="changed", message=changed.describe())
    return component


@transaction.atomic
def component_set_override(*, component: StatusComponent, status: str, by=None) -> StatusComponent:
    """Pin a component's state by hand ('' removes the pin)."""
    if status and status not in ComponentStatus.values:
        raise InvalidInput("Unknown component state.", field="override")
    StatusComponent.objects.filter(pk=component.pk).update(override=status)
    components_refresh([component.pk])
    component.refresh_from_db()
    return component


# --- incidents -----------------------------------------------------------------------------


def _impact_of(states: Iterable[str]) -> str:
    impacts = [IMPACT_FOR_STATUS[ComponentStatus(s)] for s in states]
    return max(impacts, key=lambda i: IMPACT_RANK[i], default="none")


def _check_may_be_public(incident: Incident) -> None:
    if not incident.may_be_public:
        what = ("A drill" if incident.is_drill else "A restricted incident" if incident.restricted
                else f"A {incident.type.name} incident")
        raise InvalidInput(f"{what} never goes on the status page.", field="body")


def public_incident_ensure(incident: Incident, *, name: str = "", now: datetime | None = None) -> PublicIncident:
    """Put the incident on the public page (idempotent)."""
    _check_may_be_public(incident)
    pub, created = PublicIncident.objects.get_or_create(
        incident=incident, defaults={"name": (name or incident.title).strip(), "published_at": now or timezone.now()}
    )
    if not created and name and name.strip() != pub.name:
        PublicIncident.objects.filter(pk=pub.pk).update(name=name.strip())
        pub.name = name.strip()
    if created:
        cache.bump_on_commit()
    return pub


def _raise_impact(pub: PublicIncident, incident: Incident) -> None:
    states = ComponentImpact.objects.filter(incident=incident).values_list("status", flat=True)
    impact = _impact_of(states)
    if IMPACT_RANK[impact] > IMPACT_RANK[pub.impact]:
        PublicIncident.objects.filter(pk=pub.pk).update(impact=impact)
        pub.impact = impact


@transaction.atomic
def incident_set_component_impacts(*, incident: Incident, states: dict[StatusComponent, str], source=ComponentImpact.Source.STAFF):
    """Set how the incident affects each component; returns the refresh's changes."""
    _check_may_be_public(incident)
    for component, status in states.items():
        if status not in ComponentStatus.values:
            raise InvalidInput(f"Unknown state for {component.name}.", field="components")
        ComponentImpact.objects.update_or_create(incident=incident, component=component, defaults={"status": status, "source": source})
    return components_refresh([c.pk for c in states] + list(incident.component_impacts.values_list("component_id", flat=True)))


@transaction.atomic
def incident_publish_update(
    *, incident: Incident, body: str, by, status: str | None = None, components: dict[StatusComponent, str] | None = None,
    name: str = "",
) -> StatusUpdate:
    """The communications lead's one step: the public update, the incident's status and its
    components' states together. Writes the timeline (through the core), publishes the incident
    if it was not yet, updates the page and feeds; subscribers are notified by the worker."""
    components = components or {}
    _check_may_be_public(incident)
    if status and status not in IncidentStatus.values:
        raise InvalidInput(f"Unknown status {status!r}.", field="status")
    if not (body or "").strip():
        raise InvalidInput("The update is empty.", field="body")
    for component, state in components.items():
        if state not in ComponentStatus.values:
            raise InvalidInput(f"Unknown state for {component.name}.", field="components")
    affected_ids = {c.pk for c in components} | set(incident.component_impacts.values_list("component_id", flat=True))
    before = dict(StatusComponent.objects.filter(pk__in=affected_ids).values_list("pk", "status"))
    for component, state in components.items():
        ComponentImpact.objects.update_or_create(
            incident=incident, component=component, defaults={"status": state, "source": ComponentImpact.Source.STAFF}
        )
    update = core.incident_post_update(incident=incident, body=body, visibility=Visibility.PUBLIC, status=status, by=by)
    pub = public_incident_ensure(incident, name=name, now=update.created_at)
    components_refresh(affected_ids)
    incident.refresh_from_db()
    _raise_impact(pub, incident)
    after = {c.pk: c for c in StatusComponent.objects.filter(pk__in=[c.pk for c in components])}
    affected = [
        {"code": c.code, "name": c.name, "old_status": before.get(c.pk, c.status), "new_status": c.status}
        for c in sorted(after.values(), key=lambda c: (c.position, c.name))
    ]
    PublicUpdateInfo.objects.update_or_create(update=update, defaults={"affected_components": affected})
    if affected:
        changes = ", ".join(f"{a['name']}: {ComponentStatus(a['new_status']).label}" for a in affected)
        core.timeline_record(incident=incident, kind="statuspage.components", by=by, dispatch=False,
                             message=f"Status page components: {changes}", data={"components": affected})
    cache.bump_on_commit()
    return update


KIND_FOR_STATUS = {
    IncidentStatus.INVESTIGATING: CommunicationTemplate.Kind.EXTERNAL,
    IncidentStatus.IDENTIFIED: CommunicationTemplate.Kind.PROGRESS,
    IncidentStatus.MONITORING: CommunicationTemplate.Kind.PROGRESS,
    IncidentStatus.RESOLVED: CommunicationTemplate.Kind.RESOLUTION,
}


def template_for(status: str, templates):
    """Public-facing templates (audience: status page / customers) first, the one of the matching
    kind before the others; chat templates (which carry internal names and links) only as a last resort."""
    kind = KIND_FOR_STATUS.get(IncidentStatus(status))
    public = [t for t in templates if any(w in t.audience.lower() for w in ("status", "customer", "public"))]
    return (
        next((t for t in public if t.kind == kind), None)
        or (public[0] if public else None)
        or next((t for t in templates if t.kind == kind), None)
    )


PUBLISH = "statuspage.publish_public_update"
RESOLVED_FALLBACK = "This incident has been resolved. Thank you for your patience."


@transaction.atomic
def incident_publish_resolution(*, incident: Incident, event) -> StatusUpdate | None:
    """Resolving an incident that is on the status page says so there: the public message typed at
    resolve time, else the resolution template. Once per resolution (redeliveries do nothing)."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.status != IncidentStatus.RESOLVED or not PublicIncident.objects.filter(incident=incident).exists():
        return None
    if incident.updates.filter(visibility=Visibility.PUBLIC, status=IncidentStatus.RESOLVED, created_at__gte=event.occurred_at).exists():
        return None
    body = str((event.data or {}).get("public_message") or "").strip()
    if not body:
        chosen = template_for(IncidentStatus.RESOLVED, templates_for(incident))
        body = (render_template(chosen, incident, public_context(incident)) if chosen is not None else "") or RESOLVED_FALLBACK
    return incident_publish_update(incident=incident, body=body, by=event.actor)


def public_context(incident: Incident) -> dict:
    """What a communication template may say when no person reviews the text: the public name,
    the public components and times, never the internal title, services, impact, people or links."""
    pub = PublicIncident.objects.get(incident=incident)
    names = list(ComponentImpact.objects.filter(incident=incident).order_by("component__position", "component__name")
                 .values_list("component__name", flat=True))
    end = incident.resolved_at or timezone.now()
    fmt = "%Y-%m-%d %H:%M %Z"
    return {
        "title": pub.name, "number": "", "severity": "", "severity_label": "", "status": IncidentStatus(incident.status).label,
        "impact": ", ".join(names) or "Some of our services", "summary": "", "services": ", ".join(names) or "Our services",
        "started": timezone.localtime(incident.started_at).strftime(fmt),
        "ended": timezone.localtime(incident.resolved_at).strftime(fmt) if incident.resolved_at else "",
        "duration_minutes": int((end - incident.started_at).total_seconds() // 60),
        "commander": "", "tech_lead": "", "comms_lead": "", "responders": "", "cadence_minutes": None,
        "resolved": incident.status == IncidentStatus.RESOLVED, "resolution": "", "root_cause": "", "latest_update": "",
        "link": "",
    }


def public_update_ensure(update: StatusUpdate) -> PublicUpdateInfo:
    info, _ = PublicUpdateInfo.objects.get_or_create(update=update)
    return info


@transaction.atomic
def incident_degrade_on_alert(*, incident: Incident, service_ids: Iterable[int]) -> list:
    """An alert-opened incident marks the components that ask for it degraded at once."""
    if incident.status == IncidentStatus.RESOLVED:
        return []
    states = {}
    for component in StatusComponent.objects.filter(service_id__in=list(service_ids), degrade_on_alert=True):
        if not ComponentImpact.objects.filter(incident=incident, component=component).exists():
            states[component] = ComponentStatus.DEGRADED_PERFORMANCE
    if not states:
        return []
    return incident_set_component_impacts(incident=incident, states=states, source=ComponentImpact.Source.ALERT)


@transaction.atomic
def incident_record_postmortem(*, incident: Incident, summary: str, url: str = "", at: datetime | None = None) -> bool:
    """Show the latest published postmortem's public summary on the incident's page."""
    pub = PublicIncident.objects.select_for_update().filter(incident=incident).first()
    if pub is None:
        return False
    at = at or timezone.now()
    if pub.postmortem_published_at and pub.postmortem_published_at > at:
        return False  # an older event arriving late
    PublicIncident.objects.filter(pk=pub.pk).update(postmortem_summary=(summary or "").strip(), postmortem_url=url or "", postmortem_published_at=at)
    cache.bump_on_commit()
    return True


# --- maintenance ---------------------------------------------------------------------------

STEP_TEXT = {
    MaintenanceStatus.SCHEDULED: "Maintenance is scheduled from {start} to {end} (UTC).",
    MaintenanceStatus.IN_PROGRESS: "Scheduled maintenance is now in progress. We will provide updates as necessary.",
    MaintenanceStatus.VERIFYING: "Maintenance work is done; we are verifying that everything works as expected.",
    MaintenanceStatus.COMPLETED: "The scheduled maintenance has been completed.",
}
# Allowed moves of a window (the scheduler and staff use the same table).
MAINTENANCE_MOVES = {
    MaintenanceStatus.SCHEDULED: {MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.COMPLETED},
    MaintenanceStatus.IN_PROGRESS: {MaintenanceStatus.VERIFYING, MaintenanceStatus.COMPLETED},
    MaintenanceStatus.VERIFYING: {MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.COMPLETED},
    MaintenanceStatus.COMPLETED: set(),
}


def maintenance_record_ensure(maintenance: Maintenance) -> MaintenanceRecord:
    record, _ = MaintenanceRecord.objects.get_or_create(maintenance=maintenance)
    return record


def _schedule_steps(maintenance: Maintenance) -> None:
    """Fast path: ETA tasks for a window's steps (within the durable ETA horizon). The sweep is
    the safety net either way."""
    now = timezone.now()
    maintenance_step_later.enqueue_many(
        [({"maintenance_id": maintenance.pk}, when) for when in (maintenance.scheduled_for, maintenance.scheduled_until)
         if now - timedelta(minutes=1) < when])


def _post_step(maintenance: Maintenance, status: str, body: str = "", now: datetime | None = None) -> MaintenanceUpdate | None:
    now = now or timezone.now()
    text = (body or "").strip() or STEP_TEXT[MaintenanceStatus(status)].format(
        start=f"{maintenance.scheduled_for:%Y-%m-%d %H:%M}", end=f"{maintenance.scheduled_until:%Y-%m-%d %H:%M}"
    )
    affected = [
        {"code": c.code, "name": c.name, "old_status": "", "new_status": c.status}
        for c in StatusComponent.objects.filter(service__maintenances=maintenance).order_by("position", "name")
    ]
    update, created = MaintenanceUpdate.objects.get_or_create(
        maintenance=maintenance, status=status, defaults={"body": text, "created_at": now, "affected_components": affected}
    )
    if not created:
        return None
    if maintenance.public:
        notify.fan_out_maintenance_update(maintenance, update)
    cache.bump_on_commit()
    return update


@transaction.atomic
def maintenance_save(
    *, maintenance: Maintenance | None = None, by=None, title: str, description: str = "", services: Iterable[Service],
    scheduled_for: datetime, scheduled_until: datetime, public: bool = True, suppress_alerts: bool = True,
) -> Maintenance:
    """Create or edit a window (staff page, admin and API alike)."""
    services = list(services)
    if not (title or "").strip():
        raise InvalidInput("A title is required.", field="title")
    if not services:
        raise InvalidInput("Choose at least one service.", field="services")
    if scheduled_until <= scheduled_for:
        raise InvalidInput("The window must end after it starts.", field="scheduled_until")
    creating = maintenance is None
    if creating:
        maintenance = Maintenance(created_by=by if by is not None and by.is_authenticated else None)
    elif maintenance.status == MaintenanceStatus.COMPLETED:
        raise InvalidTransition("A completed window cannot be edited.")
    old_services = set() if creating else set(maintenance.services.values_list("pk", flat=True))
    maintenance.title = title.strip()
    maintenance.description = description
    maintenance.scheduled_for = scheduled_for
    maintenance.scheduled_until = scheduled_until
    maintenance.public = public
    maintenance.suppress_alerts = suppress_alerts
    maintenance.save()
    maintenance.services.set(services)
    maintenance_after_save(maintenance=maintenance, created=creating, old_service_ids=old_services)
    audit_record(by=by, obj=maintenance, action="added" if creating else "changed",
                 message=f"{maintenance.scheduled_for:%Y-%m-%d %H:%M} – {maintenance.scheduled_until:%Y-%m-%d %H:%M} UTC")
    return maintenance


@transaction.atomic
def maintenance_delete(*, maintenance: Maintenance, by=None) -> None:
    """Remove a window and its public record; the components it held re-derive their state."""
    service_ids = list(maintenance.services.values_list("pk", flat=True))
    audit_record(by=by, obj=maintenance, action="deleted")
    maintenance.delete()
    components_refresh(components_for_services(service_ids))
    cache.bump_on_commit()


@transaction.atomic
def maintenance_after_save(*, maintenance: Maintenance, created: bool, old_service_ids: Iterable[int] = ()) -> None:
    """What follows any save of a window (this app's forms and API, and the admin)."""
    maintenance_record_ensure(maintenance)
    if created and maintenance.status == MaintenanceStatus.SCHEDULED:
        _post_step(maintenance, MaintenanceStatus.SCHEDULED, body=maintenance.description)
    service_ids = set(old_service_ids) | set(maintenance.services.values_list("pk", flat=True))
    components_refresh(components_for_services(service_ids))
    _schedule_steps(maintenance)
    cache.bump_on_commit()


@transaction.atomic
def maintenance_advance(*, maintenance: Maintenance, to: str, body: str = "", by=None, now: datetime | None = None) -> bool:
    """Move a window one step by compare-and-set; False when someone else moved it first."""
    now = now or timezone.now()
    if to not in MaintenanceStatus.values:
        raise InvalidInput("Unknown maintenance status.", field="status")
    current = Maintenance.objects.filter(pk=maintenance.pk).values_list("status", flat=True).first()
    if current is None or to not in MAINTENANCE_MOVES[MaintenanceStatus(current)]:
        if by is not None:
            raise InvalidTransition(f"A {current} window cannot move to {to}.")
        return False
    if not Maintenance.objects.filter(pk=maintenance.pk, status=current).update(status=to, updated_at=now):
        return False
    maintenance.refresh_from_db()
    maintenance_record_ensure(maintenance)
    components_refresh(components_for_services(maintenance.services.values_list("pk", flat=True)), now=now)
    _post_step(maintenance, to, body=body, now=now)
    return True


def maintenance_step(*, maintenance: Maintenance, now: datetime | None = None) -> str | None:
    """What the scheduler does for one window at `now`: start it or complete it when due."""
    now = now or timezone.now()
    if maintenance.status == MaintenanceStatus.SCHEDULED and maintenance.scheduled_for <= now:
        target = MaintenanceStatus.COMPLETED if maintenance.scheduled_until <= now else MaintenanceStatus.IN_PROGRESS
        if target == MaintenanceStatus.COMPLETED and maintenance_advance(maintenance=maintenance, to=MaintenanceStatus.IN_PROGRESS, now=now):
            maintenance.refresh_from_db()
        if maintenance_advance(maintenance=maintenance, to=target, now=now):
            return target
        return None
    if (
        maintenance.status in STARTED_STATUSES and maintenance.scheduled_until <= now
        and maintenance_advance(maintenance=maintenance, to=MaintenanceStatus.COMPLETED, now=now)
    ):
        return MaintenanceStatus.COMPLETED
    return None
