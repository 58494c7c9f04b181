"""Every incident state change, one function per verb.

Each locks the incident row, checks the rule, writes the change and its timeline event in one
transaction, and hands the event to the subscribers after commit (see `incidents.events`).
The staff pages, the API, the admin, integrations and tasks all call these; nothing else
saves incident state.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from delivery import safetext

from . import events, untrusted
from .audit import audit_record
from .exceptions import InvalidInput, InvalidTransition
from .models import (
    DetectionSource,
    EventKind,
    Incident,
    IncidentChecklistItem,
    IncidentCounter,
    IncidentLink,
    IncidentMember,
    IncidentStatus,
    IncidentType,
    LinkKind,
    Role,
    Service,
    Severity,
    StatusUpdate,
    TimelineEvent,
    Visibility,
)
from .models.catalog import war_room_url
from .tasks import enqueue_deliveries

logger = logging.getLogger(__name__)
User = get_user_model()


# --- the timeline / outbox -----------------------------------------------------------------


def timeline_record(
    *,
    incident: Incident,
    kind: str,
    message: str,
    by=None,
    actor_label: str = "",
    data: dict | None = None,
    occurred_at: datetime | None = None,
    dispatch: bool = True,
) -> TimelineEvent:
    """Write one timeline event. Other apps call this for their own kinds of event.

    With `dispatch`, the event's outbox rows (one per subscriber) are written with it and each
    goes to its own task after commit; if the broker is down the sweep sends them later."""
    now = timezone.now()
    event = TimelineEvent.objects.create(
        incident=incident,
        kind=kind,
        message=message,
        actor=by if (by is not None and by.is_authenticated) else None,
        actor_label=actor_label,
        data=data or {},
        occurred_at=occurred_at or now,
        dispatched_at=None if dispatch else now,
    )
    if dispatch:
        rows = events.deliveries_create(event, now, fresh=True)
        enqueue_deliveries(rows)
    return event


def _locked(incident: Incident) -> Incident:
    """Re-read the incident under a row lock; the caller's copy may be stale."""
    fresh = Incident.objects.select_for_update(of=("self",)).select_related("severity", "type").get(pk=incident.pk)
    return fresh


def _bump(incident: Incident, **fields) -> None:
    fields["version"] = F("version") + 1
    fields["updated_at"] = timezone.now()
    Incident.objects.filter(pk=incident.pk).update(**fields)
    incident.refresh_from_db()


def _name(user) -> str:
    if user is None:
        return "System"
    return user.get_full_name() or user.get_username()


def _check_active_user(user, field: str):
    if user is None or not user.is_active:
        raise InvalidInput("Choose an active user.", field=field)


# --- declare -----------------------------------------------------------------------------


def next_incident_number(now: datetime) -> str:
    """The next INC-YYYYMMDD-NNN for the day of `now`; call inside the declaring transaction."""
    day = timezone.localdate(now)
    if not IncidentCounter.objects.filter(day=day).update(last=F("last") + 1):
        try:
            with transaction.atomic():
                IncidentCounter.objects.create(day=day, last=1)
        except IntegrityError:  # another declaration created today's counter first
            IncidentCounter.objects.filter(day=day).update(last=F("last") + 1)
    last = IncidentCounter.objects.get(day=day).last
    return f"INC-{day:%Y%m%d}-{last:03d}"


@transaction.atomic
def incident_declare(
    *,
    title: str,
    severity: Severity | None = None,
    by=None,
    incident_type: IncidentType | None = None,
    summary: str = "",
    impact: str = "",
    services: Iterable[Service] = (),
    detection_source: str = DetectionSource.STAFF,
    started_at: datetime | None = None,
    commander=None,
    actor_label: str = "",
    data: dict | None = None,
    restricted: bool = False,
    access_groups: Iterable = (),
) -> Incident:
    """Declare. A type that is restricted restricts the incident (with the type's groups, plus
    `access_groups`) whatever `restricted` says."""
    title = (title or "").strip()
    if not title:
        raise InvalidInput("A title is required.", field="title")
    if incident_type is not None and not incident_type.is_active:
        raise InvalidInput(f"The type {incident_type.name} is not active.", field="type")
    severity = severity or (incident_type.default_severity if incident_type is not None else None)
    if severity is None:
        raise InvalidInput("Choose a severity.", field="severity")
    if not severity.is_active:
        raise InvalidInput(f"Severity {severity.key} is not active.", field="severity")
    if detection_source not in DetectionSource.values:
        raise InvalidInput("Unknown detection source.", field="detection_source")
    now = timezone.now()
    if started_at and started_at > now:
        raise InvalidInput("The start of impact cannot be in the future.", field="started_at")
    by = by if (by is not None and by.is_authenticated) else None
    incident = Incident.objects.create(
        number=next_incident_number(now),
        title=title,
        summary=summary,
        impact=impact,
        severity=severity,
        type=incident_type,
        is_drill=incident_type is not None and incident_type.is_drill,
        detection_source=detection_source,
        declared_at=now,
        declared_by=by,
        started_at=started_at or now,
        restricted=restricted or (incident_type is not None and incident_type.restricted),
    )
    groups = set(access_groups) | (set(incident_type.access_groups.all()) if incident_type is not None else set())
    if incident.restricted and groups:
        incident.access_groups.set(groups)
    services = list(services)
    if services:
        incident.services.set(services)
    IncidentChecklistItem.objects.bulk_create(
        IncidentChecklistItem(incident=incident, text=item.text, position=item.position)
        for item in severity.checklist_items.all()
    )
    _copy_type_checklist(incident, incident_type)
    kind_of = f" ({incident_type.name})" if incident_type is not None else ""
    timeline_record(
        incident=incident,
        kind=EventKind.DECLARED,
        message=f"Declared {severity.key} {severity.label}{kind_of}: {title}",
        by=by,
        actor_label=actor_label,
        data={
            "severity": severity.key,
            "type": incident_type.key if incident_type is not None else None,
            "services": [s.pk for s in services],
            "detection_source": detection_source,
            "restricted": incident.restricted,
            **(data or {}),
        },
        occurred_at=now,
    )
    _war_room_auto(incident, by=by, actor_label=actor_label)
    if commander is not None:
        incident_assign_role(incident=incident, role=Role.COMMANDER, user=commander, by=by)
    return incident


@transaction.atomic
def incident_update_details(
    *, incident: Incident, by, title=None, summary=None, impact=None, services=None, started_at=None
) -> Incident:
    """Edit what the incident says; `started_at` (when impact began, the start of MTTK) may be
    corrected to any time up to the declaration."""
    incident = _locked(incident)
    changes = {}
    # To the second: the edit form shows seconds, not the declaration's microseconds.
    if started_at is not None and abs(started_at - incident.started_at) >= timedelta(seconds=1):
        if started_at > incident.declared_at:
            raise InvalidInput("The start of impact cannot be after the declaration (it is when detection began).", field="started_at")
        changes["started_at"] = started_at
    if title is not None and title.strip() != incident.title:
        if not title.strip():
            raise InvalidInput("A title is required.", field="title")
        changes["title"] = title.strip()
    if summary is not None and summary != incident.summary:
        changes["summary"] = summary
    if impact is not None and impact != incident.impact:
        changes["impact"] = impact
    changed = sorted(changes)
    if services is not None:
        new_ids = {s.pk for s in services}
        if new_ids != set(incident.services.values_list("pk", flat=True)):
            incident.services.set(services)
            changed.append("services")
    if not changed:
        return incident
    _bump(incident, **changes)
    timeline_record(
        incident=incident, kind=EventKind.EDITED, by=by,
        message=f"{_name(by)} edited {', '.join(c.replace('started_at', 'the start of impact') for c in changed)}",
        data={"fields": changed},
    )
    return incident


# --- respond -----------------------------------------------------------------------------


@transaction.atomic
def incident_acknowledge(*, incident: Incident, by=None, actor_label: str = "", via: str = "") -> TimelineEvent:
    incident = _locked(incident)
    if incident.status == IncidentStatus.RESOLVED:
        raise InvalidTransition("A resolved incident cannot be acknowledged.")
    if incident.last_acknowledged_at:
        raise InvalidTransition(f"Already acknowledged by {_name(incident.acknowledged_by) if incident.acknowledged_by_id else 'someone'}.")
    by = by if (by is not None and by.is_authenticated) else None
    now = timezone.now()
    fields = {"last_acknowledged_at": now}
    if not incident.acknowledged_at:  # the first acknowledgement is the one MTTA measures
        fields.update(acknowledged_at=now, acknowledged_by=by)
    _bump(incident, **fields)
    suffix = f" via {via}" if via else ""
    return timeline_record(
        incident=incident, kind=EventKind.ACKNOWLEDGED, by=by, actor_label=actor_label,
        message=f"Acknowledged by {_name(by) if by else actor_label or 'System'}{suffix}",
        data={"via": via} if via else {},
    )


def _apply_status(incident: Incident, new: str, now: datetime) -> dict:
    """The fields a move to `new` sets, so MTTI / MTTM / MTTR can be measured."""
    fields = {"status": new}
    if new == IncidentStatus.IDENTIFIED and not incident.identified_at:
        fields["identified_at"] = now
    if new in (IncidentStatus.MONITORING, IncidentStatus.RESOLVED) and not incident.mitigated_at:
        fields["mitigated_at"] = now
    if new in (IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING, IncidentStatus.RESOLVED) and not incident.last_acknowledged_at:
        # Working on it is acknowledging it.
        fields["last_acknowledged_at"] = now
        if not incident.acknowledged_at:
            fields["acknowledged_at"] = now
    return fields


@transaction.atomic
def incident_change_status(*, incident: Incident, status: str, by=None, message: str = "", actor_label: str = "") -> TimelineEvent:
    if status not in IncidentStatus.values:
        raise InvalidInput(f"Unknown status {status!r}.", field="status")
    if status == IncidentStatus.RESOLVED:
        return incident_resolve(incident=incident, by=by, summary=message, actor_label=actor_label)
    incident = _locked(incident)
    if incident.status == IncidentStatus.RESOLVED:
        return _reopen(incident, status=status, by=by, reason=message, actor_label=actor_label)
    if not incident.can_transition_to(status):
        raise InvalidTransition(f"The incident is already {incident.get_status_display().lower()}.")
    old = incident.status
    now = timezone.now()
    fields = _apply_status(incident, status, now)
    if "acknowledged_at" in fields:
        fields["acknowledged_by"] = by if (by is not None and by.is_authenticated) else None
    _bump(incident, **fields)
    text = f"Status {IncidentStatus(old).label} → {IncidentStatus(status).label}"
    kind = EventKind.MITIGATED if status == IncidentStatus.MONITORING else EventKind.STATUS_CHANGED
    return timeline_record(
        incident=incident, kind=kind, by=by, actor_label=actor_label,
        message=f"{text}: {message}" if message else text,
        data={"from": old, "to": status, "acknowledged": "last_acknowledged_at" in fields},
    )


@transaction.atomic
def incident_resolve(
    *, incident: Incident, by=None, summary: str = "", false_positive: bool = False,
    root_cause_tag: str = "", actor_label: str = "", public_message: str = "",
) -> TimelineEvent:
    """Close the incident. No summary is needed (the postmortem asks for it later). An incident
    on the status page gets a public "Resolved" update from the status page's subscriber:
    `public_message`, or its resolution notice template when empty."""
    incident = _locked(incident)
    if incident.status == IncidentStatus.RESOLVED:
        raise InvalidTransition("The incident is already resolved.")
    now = timezone.now()
    fields = _apply_status(incident, IncidentStatus.RESOLVED, now)
    by = by if (by is not None and by.is_authenticated) else None
    if "acknowledged_at" in fields:
        fields["acknowledged_by"] = by
    fields.update(resolved_at=now, resolved_by=by, false_positive=false_positive)
    if summary:
        fields["resolution_summary"] = summary
    if root_cause_tag:
        fields["root_cause_tag"] = root_cause_tag
    old = incident.status
    _bump(incident, **fields)
    return timeline_record(
        incident=incident, kind=EventKind.RESOLVED, by=by, actor_label=actor_label,
        message="Resolved" + (" as a false positive" if false_positive else "") + (f": {summary}" if summary else ""),
        data={"from": old, "to": IncidentStatus.RESOLVED, "false_positive": false_positive,
              **({"public_message": public_message.strip()} if public_message.strip() else {})},
    )


def _reopen(incident: Incident, *, status: str, by, reason: str, actor_label: str) -> TimelineEvent:
    _bump(incident, status=status, resolved_at=None, resolved_by=None, reopened_at=timezone.now(), last_acknowledged_at=None)
    return timeline_record(
        incident=incident, kind=EventKind.REOPENED, by=by, actor_label=actor_label,
        message="Reopened" + (f": {reason}" if reason else ""),
        data={"from": IncidentStatus.RESOLVED, "to": status},
    )


@transaction.atomic
def incident_reopen(*, incident: Incident, by=None, reason: str = "", actor_label: str = "") -> TimelineEvent:
    incident = _locked(incident)
    if incident.status != IncidentStatus.RESOLVED:
        raise InvalidTransition("Only a resolved incident can be reopened.")
    return _reopen(incident, status=IncidentStatus.INVESTIGATING, by=by, reason=reason, actor_label=actor_label)


@transaction.atomic
def incident_change_severity(*, incident: Incident, severity: Severity, by=None, reason: str = "", actor_label: str = "") -> TimelineEvent:
    incident = _locked(incident)
    if not severity.is_active:
        raise InvalidInput(f"Severity {severity.key} is not active.", field="severity")
    if severity.pk == incident.severity_id:
        raise InvalidTransition(f"The incident is already {severity.key}.")
    old = incident.severity
    _bump(incident, severity=severity)
    # Checklist items of the new severity that the incident does not have yet.
    have = set(incident.checklist.values_list("text", flat=True))
    IncidentChecklistItem.objects.bulk_create(
        IncidentChecklistItem(incident=incident, text=item.text, position=item.position)
        for item in severity.checklist_items.all()
        if item.text not in have
    )
    direction = "raised" if severity.rank < old.rank else "lowered"
    event = timeline_record(
        incident=incident, kind=EventKind.SEVERITY_CHANGED, by=by, actor_label=actor_label,
        message=f"Severity {direction} {old.key} → {severity.key}" + (f": {reason}" if reason else ""),
        data={"from": old.key, "to": severity.key, "from_rank": old.rank, "to_rank": severity.rank},
    )
    if severity.rank < old.rank:
        _war_room_auto(incident, by=by, actor_label=actor_label)
    return event


def _copy_type_checklist(incident: Incident, incident_type: IncidentType | None) -> None:
    """The type's playbook lines the incident does not have yet, after its own (with owners)."""
    if incident_type is None:
        return
    have = set(incident.checklist.values_list("text", flat=True))
    offset = 100  # after the severity's lines
    IncidentChecklistItem.objects.bulk_create(
        IncidentChecklistItem(incident=incident, text=item.text, owner_role=item.owner_role, position=offset + item.position)
        for item in incident_type.checklist_items.all()
        if item.text not in have
    )


@transaction.atomic
def incident_change_type(*, incident: Incident, incident_type: IncidentType | None, by=None, reason: str = "",
                         actor_label: str = "") -> TimelineEvent:
    """Reclassify the incident. Its type's checklist is added, and the event re-plans escalation
    (oncall stops the old type's policy and starts the new one's). A drill stays a drill and a
    real incident stays real: the metrics and the status page depend on it."""
    incident = _locked(incident)
    new_id = incident_type.pk if incident_type is not None else None
    if new_id == incident.type_id:
        raise InvalidTransition(f"The incident is already {incident_type.name if incident_type else 'without a type'}.")
    if incident_type is not None and not incident_type.is_active:
        raise InvalidInput(f"The type {incident_type.name} is not active.", field="type")
    old = incident.type
    if incident.is_drill != bool(incident_type is not None and incident_type.is_drill):
        raise InvalidInput("A drill stays a drill, and a real incident cannot become one: declare a new incident.", field="type")
    _bump(incident, type=incident_type)
    _copy_type_checklist(incident, incident_type)
    old_name = old.name if old is not None else "no type"
    new_name = incident_type.name if incident_type is not None else "no type"
    event = timeline_record(
        incident=incident, kind=EventKind.TYPE_CHANGED, by=by, actor_label=actor_label,
        message=f"Type {old_name} → {new_name}" + (f": {reason}" if reason else ""),
        data={"from": old.key if old is not None else None, "to": incident_type.key if incident_type is not None else None},
    )
    if incident_type is not None and incident_type.restricted:  # never lifted by a type change: only by hand
        groups = set(incident.access_groups.all()) | set(incident_type.access_groups.all())
        if not incident.restricted or groups != set(incident.access_groups.all()):
            incident_set_restriction(incident=incident, restricted=True, access_groups=groups, by=by,
                                     reason=f"the type {incident_type.name} is restricted")
    return event


@transaction.atomic
def incident_set_restriction(*, incident: Incident, restricted: bool, access_groups: Iterable = (), by=None,
                             reason: str = "") -> TimelineEvent:
    """Restrict the incident to its responders plus `access_groups`, change those groups, or
    lift the restriction. A timeline event and an audit entry name who did it. An incident on
    the public status page cannot be restricted (take it off there first)."""
    incident = _locked(incident)
    groups = set(access_groups) if restricted else set()
    before = set(incident.access_groups.all())
    if restricted == incident.restricted and groups == before:
        raise InvalidTransition("Nothing to change: the incident is already " + ("restricted to these groups." if restricted else "unrestricted."))
    if restricted and Incident.objects.filter(pk=incident.pk, public__isnull=False).exists():
        raise InvalidInput("The incident is on the public status page: it cannot be restricted.", field="restricted")
    _bump(incident, restricted=restricted)
    incident.access_groups.set(groups)
    names = ", ".join(sorted(g.name for g in groups))
    if restricted:
        message = "Restricted to its responders" + (f" and {names}" if names else "")
    else:
        message = "Restriction lifted: every viewer can read it"
    message += f" ({reason})" if reason else ""
    audit_record(by=by, obj=incident, action="changed", message=message)
    return timeline_record(
        incident=incident, kind=EventKind.RESTRICTED if restricted else EventKind.UNRESTRICTED, by=by, message=message,
        data={"groups": sorted(g.name for g in groups)},
    )


@transaction.atomic
def incident_assign_role(*, incident: Incident, role: str, user, by=None) -> TimelineEvent:
    if role not in Role.values:
        raise InvalidInput(f"Unknown role {role!r}.", field="role")
    _check_active_user(user, "user")
    incident = _locked(incident)
    if role == Role.RESPONDER:
        return incident_add_responder(incident=incident, user=user, by=by)
    current = IncidentMember.objects.filter(incident=incident, role=role).select_related("user").first()
    if current and current.user_id == user.pk:
        raise InvalidTransition(f"{_name(user)} is already {Role(role).label.lower()}.")
    if current:
        current.delete()
    IncidentMember.objects.create(incident=incident, user=user, role=role, assigned_by=by if by and by.is_authenticated else None)
    _bump(incident)
    previous = f" (was {_name(current.user)})" if current else ""
    return timeline_record(
        incident=incident, kind=EventKind.ROLE_ASSIGNED, by=by,
        message=f"{_name(user)} is {Role(role).label.lower()}{previous}",
        data={"role": role, "user": user.pk, "previous": current.user_id if current else None},
    )


@transaction.atomic
def incident_unassign_role(*, incident: Incident, role: str, by=None) -> TimelineEvent:
    incident = _locked(incident)
    member = IncidentMember.objects.filter(incident=incident, role=role).exclude(role=Role.RESPONDER).select_related("user").first()
    if member is None:
        raise InvalidTransition(f"Nobody holds the role {role}.")
    member.delete()
    _bump(incident)
    return timeline_record(
        incident=incident, kind=EventKind.ROLE_REMOVED, by=by,
        message=f"{_name(member.user)} is no longer {Role(role).label.lower()}",
        data={"role": role, "user": member.user_id},
    )


@transaction.atomic
def incident_add_responder(*, incident: Incident, user, by=None) -> TimelineEvent:
    _check_active_user(user, "user")
    incident = _locked(incident)
    if IncidentMember.objects.filter(incident=incident, user=user, role=Role.RESPONDER).exists():
        raise InvalidTransition(f"{_name(user)} is already a responder.")
    IncidentMember.objects.create(incident=incident, user=user, role=Role.RESPONDER, assigned_by=by if by and by.is_authenticated else None)
    _bump(incident)
    return timeline_record(
        incident=incident, kind=EventKind.RESPONDER_ADDED, by=by,
        message=f"{_name(user)} joined as responder", data={"user": user.pk},
    )


@transaction.atomic
def incident_add_note(*, incident: Incident, body: str, by=None, occurred_at: datetime | None = None) -> TimelineEvent:
    body = (body or "").strip()
    if not body:
        raise InvalidInput("The note is empty.", field="body")
    now = timezone.now()
    if occurred_at and occurred_at > now:
        raise InvalidInput("A note cannot be dated in the future.", field="occurred_at")
    incident = _locked(incident)
    return timeline_record(
        incident=incident, kind=EventKind.NOTE, by=by, message=body,
        occurred_at=occurred_at or now, data={"backdated": bool(occurred_at)},
    )


@transaction.atomic
def incident_post_update(
    *, incident: Incident, body: str, visibility: str = Visibility.INTERNAL, status: str | None = None, by=None,
) -> StatusUpdate:
    """A written update, optionally moving the status in the same step."""
    body = (body or "").strip()
    if not body:
        raise InvalidInput("The update is empty.", field="body")
    if visibility not in Visibility.values:
        raise InvalidInput(f"Unknown visibility {visibility!r}.", field="visibility")
    incident = _locked(incident)
    if visibility == Visibility.PUBLIC and not incident.may_be_public:
        raise InvalidInput("This incident never goes on the status page (a drill, or a type kept off it).", field="visibility")
    if status and status != incident.status:
        incident_change_status(incident=incident, status=status, by=by)
        incident.refresh_from_db()
    update = StatusUpdate.objects.create(
        incident=incident, status=incident.status, visibility=visibility, body=body,
        created_at=timezone.now(), author=by if by and by.is_authenticated else None,
    )
    timeline_record(
        incident=incident, kind=EventKind.STATUS_UPDATE, by=by,
        message=f"{Visibility(visibility).label} update ({incident.get_status_display()}): {body}",
        data={"update": update.pk, "visibility": visibility, "status": incident.status},
    )
    return update


@transaction.atomic
def checklist_set_done(*, item: IncidentChecklistItem, done: bool, by=None) -> IncidentChecklistItem:
    incident = _locked(item.incident)
    item = IncidentChecklistItem.objects.select_for_update().get(pk=item.pk)
    if bool(item.done_at) == done:
        return item
    item.done_at = timezone.now() if done else None
    item.done_by = by if done and by and by.is_authenticated else None
    item.save(update_fields=["done_at", "done_by"])
    timeline_record(
        incident=incident, kind=EventKind.CHECKLIST, by=by, dispatch=False,
        message=f"{'Ticked' if done else 'Unticked'} checklist item: {item.text}",
        data={"item": item.pk, "done": done},
    )
    return item


# --- war room and links ------------------------------------------------------------------


def _war_room_set(incident: Incident, url: str, *, by, actor_label: str, how: str) -> TimelineEvent:
    previous = incident.war_room_url
    _bump(incident, war_room_url=url)
    verb = "moved to" if previous else how
    return timeline_record(
        incident=incident, kind=EventKind.WAR_ROOM, by=by, actor_label=actor_label,
        message=f"War room {verb} {url}", data={"url": url, "previous": previous, "how": how},
    )


def _war_room_auto(incident: Incident, *, by, actor_label: str) -> TimelineEvent | None:
    """Declared at, or raised to, a severity that starts its war room at once (call locked)."""
    severity = incident.severity
    if incident.war_room_url or not severity.war_room_auto:
        return None
    url = war_room_url(severity.war_room_pattern, incident.number)
    if not url:
        return None
    return _war_room_set(incident, url, by=by, actor_label=actor_label, how="started")


@transaction.atomic
def incident_start_war_room(*, incident: Incident, by=None, url: str = "", actor_label: str = "") -> TimelineEvent:
    """The incident's conference bridge: `url` as pasted, or the severity's pattern filled in."""
    incident = _locked(incident)
    pasted = untrusted.clean_text((url or "").strip())
    if pasted:
        if len(pasted) > Incident._meta.get_field("war_room_url").max_length or not safetext.url(pasted):
            raise InvalidInput("Paste an http(s) link (at most 500 characters).", field="url")
        new = pasted
    else:
        new = war_room_url(incident.severity.war_room_pattern, incident.number)
        if not new:
            raise InvalidInput(f"{incident.severity.key} has no war-room pattern: paste the link.", field="url")
    if new == incident.war_room_url:
        raise InvalidTransition("The war room is already at that link.")
    return _war_room_set(incident, new, by=by, actor_label=actor_label, how="pasted" if pasted else "started")


@transaction.atomic
def incident_add_link(*, incident: Incident, title: str, url: str, kind: str = LinkKind.OTHER, by=None) -> IncidentLink:
    """A chat thread, ticket, dashboard or document of the incident, with its title."""
    title = untrusted.one_line(title or "").strip()
    url = untrusted.clean_text((url or "").strip())
    if not title:
        raise InvalidInput("Give the link a title.", field="title")
    if len(title) > IncidentLink._meta.get_field("title").max_length:
        raise InvalidInput("The title is too long (200 characters at most).", field="title")
    if len(url) > IncidentLink._meta.get_field("url").max_length or not safetext.url(url):
        raise InvalidInput("Give an http(s) link (at most 1,000 characters).", field="url")
    if kind not in LinkKind.values:
        raise InvalidInput(f"Unknown kind of link {kind!r}.", field="kind")
    incident = _locked(incident)
    link = IncidentLink.objects.create(
        incident=incident, title=title, url=url, kind=kind, added_by=by if by is not None and by.is_authenticated else None)
    _bump(incident)
    timeline_record(
        incident=incident, kind=EventKind.LINK_ADDED, by=by,
        message=f"{LinkKind(kind).label} linked: {title} ({url})", data={"link": link.pk, "kind": kind, "url": url},
    )
    return link


@transaction.atomic
def incident_remove_link(*, link: IncidentLink, by=None) -> TimelineEvent:
    incident = _locked(link.incident)
    deleted, _ = IncidentLink.objects.filter(pk=link.pk, incident=incident).delete()
    if not deleted:
        raise InvalidTransition("That link was already removed.")
    _bump(incident)
    return timeline_record(
        incident=incident, kind=EventKind.LINK_REMOVED, by=by,
        message=f"Link removed: {link.title} ({link.url})", data={"link": link.pk, "kind": link.kind, "url": link.url},
    )
