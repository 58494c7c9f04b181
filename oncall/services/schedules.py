"""Schedules, layers, overrides and handoff notes. Each function validates, writes in one
transaction and bumps the schedule's version; a rule broken half-way saves nothing."""

from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from incidents import archive
from incidents.audit import audit_record
from incidents.exceptions import InUse, InvalidInput
from incidents.model_update import model_update
from incidents.zones import check_zone

from ..models import (
    EscalationTarget,
    HandoffNote,
    Layer,
    LayerMember,
    LayerMembership,
    Override,
    Restriction,
    RotationKind,
    Schedule,
)


@dataclass
class RestrictionSpec:
    weekdays: list[int]
    start: time
    end: time


@dataclass
class LayerSpec:
    name: str
    starts_on: date
    participants: list  # [(user or None, turns)]
    rotation: str = RotationKind.WEEKLY
    every: int = 1
    handoff_time: time = time(9, 0)
    handoff_weekday: int = 0
    weekdays_only: bool = False
    restrictions: list[RestrictionSpec] = field(default_factory=list)
    ends_at: datetime | None = None


def _check_layer(spec: LayerSpec) -> None:
    if not spec.name.strip():
        raise InvalidInput("A layer needs a name.", field="name")
    if spec.rotation not in RotationKind.values:
        raise InvalidInput(f"Unknown rotation “{spec.rotation}”.", field="rotation")
    if spec.every < 1:
        raise InvalidInput("“Every” must be at least 1.", field="every")
    if spec.rotation == RotationKind.EVERY_N_HOURS and spec.weekdays_only:
        raise InvalidInput("Weekday-only turns need a day-based rotation.", field="weekdays_only")
    if not 0 <= spec.handoff_weekday <= 6:
        raise InvalidInput("The handoff weekday is 0 (Monday) to 6 (Sunday).", field="handoff_weekday")
    _check_participants(spec.participants)
    for r in spec.restrictions:
        if not r.weekdays or any(not 0 <= d <= 6 for d in r.weekdays):
            raise InvalidInput("A restriction needs weekdays between 0 (Monday) and 6 (Sunday).", field="restrictions")


def _check_participants(participants) -> None:
    if not any(user is not None for user, _ in participants):
        raise InvalidInput("A layer needs at least one participant.", field="participants")
    for user, turns in participants:
        if turns < 1:
            raise InvalidInput("Each participant takes at least one turn.", field="participants")
        if user is not None and not user.is_active:
            raise InvalidInput(f"{user.get_username()} is not an active user.", field="participants")


def _bump(schedule: Schedule) -> None:
    Schedule.objects.filter(pk=schedule.pk).update(version=F("version") + 1)


def _write_membership(layer: Layer, participants, effective_from: datetime | None) -> LayerMembership:
    membership = LayerMembership.objects.create(layer=layer, effective_from=effective_from)
    LayerMember.objects.bulk_create([
        LayerMember(membership=membership, position=i, user=user, turns=turns) for i, (user, turns) in enumerate(participants)
    ])
    return membership


def _write_layer(schedule: Schedule, spec: LayerSpec, position: int, layer: Layer | None = None) -> Layer:
    values = {"name": spec.name.strip(), "position": position, "rotation": spec.rotation, "every": spec.every,
                  "handoff_time": spec.handoff_time, "handoff_weekday": spec.handoff_weekday, "weekdays_only": spec.weekdays_only,
                  "starts_on": spec.starts_on, "ends_at": spec.ends_at}
    taken = InvalidInput(f"This schedule already has a layer named “{spec.name}”.", field="name")
    if schedule.layers.filter(name=values["name"]).exclude(pk=layer.pk if layer else None).exists():
        raise taken
    try:
        with transaction.atomic():  # a concurrent save of the same name loses here
            if layer is None:
                layer = Layer.objects.create(schedule=schedule, **values)
            else:
                model_update(instance=layer, fields=values.keys(), data=values)
    except IntegrityError as exc:
        raise taken from exc
    layer.restrictions.all().delete()
    Restriction.objects.bulk_create([
        Restriction(layer=layer, weekdays=sorted(set(r.weekdays)), start_time=r.start, end_time=r.end) for r in spec.restrictions
    ])
    return layer


@transaction.atomic
def schedule_create(*, name: str, time_zone: str, description: str = "", layers: list[LayerSpec] = (), by=None) -> Schedule:
    """`by` on every change here: who, for the audit log (the schedule's "Changes")."""
    check_zone(time_zone)
    if not name.strip():
        raise InvalidInput("A schedule needs a name.", field="name")
    if Schedule.objects.filter(name=name.strip()).exists():
        raise InvalidInput(f"A schedule named “{name}” already exists.", field="name")
    for spec in layers:
        _check_layer(spec)
    schedule = Schedule.objects.create(name=name.strip(), time_zone=time_zone, description=description)
    for position, spec in enumerate(layers):
        layer = _write_layer(schedule, spec, position)
        _write_membership(layer, spec.participants, None)
    audit_record(by=by, obj=schedule, action="added", message=f"in {time_zone}" + (f", layers {', '.join(s.name for s in layers)}" if layers else ""))
    return schedule


SCHEDULE_FIELDS = ("name", "time_zone", "description")


@transaction.atomic
def schedule_update(*, schedule: Schedule, by=None, **changes) -> Schedule:
    """Change a schedule's name, time zone or description (any of them)."""
    if "time_zone" in changes:
        check_zone(changes["time_zone"])
    if "name" in changes:
        changes["name"] = (changes["name"] or "").strip()
        if not changes["name"]:
            raise InvalidInput("A schedule needs a name.", field="name")
        if Schedule.objects.filter(name=changes["name"]).exclude(pk=schedule.pk).exists():
            raise InvalidInput(f"A schedule named “{changes['name']}” already exists.", field="name")
    changed = model_update(instance=schedule, fields=SCHEDULE_FIELDS, data=changes)
    if changed:
        _bump(schedule)
        audit_record(by=by, obj=schedule, action="changed",
                     message=changed.describe() + (f" Time zone {schedule.time_zone}." if "time_zone" in changed else ""))
    return schedule


@dataclass
class LayerChange:
    """One layer of a schedule's new list: `layer_id` None for a new one."""

    spec: LayerSpec
    layer_id: int | None = None
    effective_from: datetime | None = None


@transaction.atomic
def schedule_layers_replace(*, schedule: Schedule, layers: list[LayerChange], by=None) -> list[Layer]:
    """Make the schedule's layers these: update the ones named, add the new ones, delete the rest
    (refused while a policy pages one of them). All or nothing."""
    kept = []
    for change in layers:
        if change.layer_id is not None:
            layer = Layer.objects.filter(pk=change.layer_id, schedule=schedule).first()
            if layer is None:
                raise InvalidInput(f"Layer {change.layer_id} is not in this schedule.", field="layers")
            kept.append(layer_update(layer=layer, spec=change.spec, effective_from=change.effective_from, by=by))
        else:
            kept.append(layer_add(schedule=schedule, spec=change.spec, by=by))
    for layer in schedule.layers.exclude(pk__in=[layer.pk for layer in kept]):
        layer_delete(layer=layer, by=by)
    return kept


def layer_spec(layer: Layer, **changes) -> LayerSpec:
    """A layer as it is now (participants of its latest membership), with `changes` applied:
    what an edit of some of its fields hands to `layer_update`."""
    latest = layer.memberships.order_by("effective_from", "pk").last()
    participants = [(m.user, m.turns) for m in LayerMember.objects.filter(membership=latest).select_related("user").order_by("position")]
    restrictions = [RestrictionSpec(weekdays=list(r.weekdays), start=r.start_time, end=r.end_time) for r in layer.restrictions.all()]
    values = {name: getattr(layer, name) for name in LAYER_FIELDS}
    values.update(changes)
    return LayerSpec(participants=participants, restrictions=restrictions, **values)


LAYER_FIELDS = ("name", "starts_on", "rotation", "every", "handoff_time", "handoff_weekday", "weekdays_only", "ends_at")


@transaction.atomic
def layer_add(*, schedule: Schedule, spec: LayerSpec, by=None) -> Layer:
    _check_layer(spec)
    position = (schedule.layers.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    if not schedule.layers.exists():
        position = 0
    layer = _write_layer(schedule, spec, position)
    _write_membership(layer, spec.participants, None)
    _bump(schedule)
    audit_record(by=by, obj=schedule, action="changed", message=f"layer “{layer.name}” added: {_people(spec.participants)}")
    return layer


@transaction.atomic
def layer_update(*, layer: Layer, spec: LayerSpec, effective_from: datetime | None = None, by=None) -> Layer:
    """Change a layer's rotation and restrictions, and its participants: from `effective_from`
    when given (earlier shifts keep the old list), otherwise from the start."""
    _check_layer(spec)
    _write_layer(layer.schedule, spec, layer.position, layer)
    current = [(m.user, m.turns) for m in LayerMember.objects.filter(membership=layer.memberships.last()).select_related("user")]
    message = f"layer “{layer.name}” changed"
    if [(u.pk if u else None, t) for u, t in current] != [(u.pk if u else None, t) for u, t in spec.participants]:
        if effective_from is None:
            layer.memberships.all().delete()
        else:
            layer.memberships.filter(effective_from__gte=effective_from).delete()
        _write_membership(layer, spec.participants, effective_from)
        message += f"; participants {_people(current)} → {_people(spec.participants)}" + (
            f" from {effective_from:%Y-%m-%d %H:%M} UTC" if effective_from else "")
    _bump(layer.schedule)
    audit_record(by=by, obj=layer.schedule, action="changed", message=message)
    return layer


@transaction.atomic
def layer_change_members(*, layer: Layer, participants, effective_from: datetime, by=None) -> LayerMembership:
    """A membership change that takes effect at `effective_from`; history is kept."""
    _check_participants(participants)
    layer.memberships.filter(effective_from__gte=effective_from).delete()
    membership = _write_membership(layer, participants, effective_from)
    _bump(layer.schedule)
    audit_record(by=by, obj=layer.schedule, action="changed",
                 message=f"layer “{layer.name}”: participants {_people(participants)} from {effective_from:%Y-%m-%d %H:%M} UTC")
    return membership


def _refuse_if_paged(targets, what: str) -> None:
    """A level that pages `what` would page nobody once it is gone: say which policies first."""
    names = sorted(set(targets.values_list("level__policy__name", flat=True)))
    if names:
        raise InUse(f"{what} is paged by the escalation polic{'ies' if len(names) > 1 else 'y'} {', '.join(names)}: "
                    "take it out of their levels first.")


# A schedule's own rows, which go with it; anything else that refers to it (handoff history) keeps it.
SCHEDULE_OWNED = ("oncall.layer", "oncall.override", "oncall.handoffnote")


@transaction.atomic
def schedule_delete(*, schedule: Schedule, by=None) -> None:
    _refuse_if_paged(EscalationTarget.objects.filter(Q(schedule=schedule) | Q(layer__schedule=schedule)), f"Schedule “{schedule.name}”")
    archive.delete_unreferenced(schedule, by=by, what=f"Schedule “{schedule.name}”", owned=SCHEDULE_OWNED,
                                archive_hint=f"POST /api/v1/schedules/{schedule.pk}/archive/")


@transaction.atomic
def schedule_archive(*, schedule: Schedule, by=None) -> Schedule:
    """Off the lists, the gap warnings and the pickers; refused while a policy still pages it."""
    _refuse_if_paged(EscalationTarget.objects.filter(Q(schedule=schedule) | Q(layer__schedule=schedule)), f"Schedule “{schedule.name}”")
    return archive.archive(schedule, by=by)


def schedule_restore(*, schedule: Schedule, by=None) -> Schedule:
    return archive.restore(schedule, by=by)


@transaction.atomic
def layer_delete(*, layer: Layer, by=None) -> None:
    _refuse_if_paged(EscalationTarget.objects.filter(layer=layer), f"Layer “{layer.name}”")
    schedule = layer.schedule
    audit_record(by=by, obj=schedule, action="changed", message=f"layer “{layer.name}” deleted")
    layer.delete()
    _bump(schedule)


@transaction.atomic
def override_create(*, schedule: Schedule, user, start: datetime, end: datetime, layer: Layer | None = None,
                    replaces=None, reason: str = "", by=None) -> Override:
    if start is None or end is None or end <= start:
        raise InvalidInput("The override must end after it starts.", field="end")
    if layer is not None and layer.schedule_id != schedule.pk:
        raise InvalidInput("That layer belongs to another schedule.", field="layer")
    if not user.is_active:
        raise InvalidInput(f"{user.get_username()} is not an active user.", field="user")
    if replaces is not None and replaces.pk == user.pk:
        raise InvalidInput("Someone cannot cover for themselves.", field="replaces")
    Schedule.objects.select_for_update().filter(pk=schedule.pk).first()  # serialise overlap checks per schedule
    clash = Override.objects.filter(schedule=schedule, layer=layer, replaces=replaces, start__lt=end, end__gt=start).first()
    if clash:
        raise InvalidInput(
            f"It overlaps another override ({clash.user.get_full_name() or clash.user.get_username()}, "
            f"{clash.start:%Y-%m-%d %H:%M} – {clash.end:%Y-%m-%d %H:%M} UTC).", field="start")
    override = Override.objects.create(schedule=schedule, layer=layer, user=user, replaces=replaces, start=start, end=end,
                                       reason=reason, created_by=by if by is not None and by.is_authenticated else None)
    _bump(schedule)
    audit_record(by=by, obj=schedule, action="changed", message=f"override added: {_describe(override)}")
    return override


@transaction.atomic
def override_delete(*, override: Override, by=None) -> None:
    schedule = override.schedule
    audit_record(by=by, obj=schedule, action="changed", message=f"override removed: {_describe(override)}")
    override.delete()
    _bump(schedule)


def _name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else "nobody"


def _people(participants) -> str:
    return ", ".join(_name(user) + (f" ×{turns}" if turns > 1 else "") for user, turns in participants) or "nobody"


def _describe(override: Override) -> str:
    covered = f" for {_name(override.replaces)}" if override.replaces_id else ""
    return f"{_name(override.user)}{covered}, {override.start:%Y-%m-%d %H:%M} – {override.end:%Y-%m-%d %H:%M} UTC"


@transaction.atomic
def handoff_note_add(*, schedule: Schedule, author, body: str) -> HandoffNote:
    if not body.strip():
        raise InvalidInput("Write something for the next person.", field="body")
    return HandoffNote.objects.create(schedule=schedule, author=author, body=body.strip())


def pending_notes(schedule: Schedule, author=None):
    notes = HandoffNote.objects.filter(schedule=schedule, handoff__isnull=True)
    return notes.filter(author=author) if author is not None else notes


