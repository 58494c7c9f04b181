"""Read paths: schedules compiled into `oncall.rotation` objects in a fixed number of queries,
who is on call, shifts, gaps, and the escalation state shown on an incident."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Min, Q
from django.utils import timezone

from delivery.gauges import age_seconds
from incidents.exceptions import InvalidInput

from . import rotation
from .models import (
    Escalation,
    EscalationState,
    EscalationStep,
    Layer,
    LayerMember,
    LayerMembership,
    Override,
    Restriction,
    RotationKind,
    Schedule,
    StepStatus,
    TargetKind,
)
from .notifications import selectors as notification_selectors

WEEKDAYS = frozenset(range(5))
HORIZON = timedelta(days=14)


def layer_anchor(*, rotation_kind: str, starts_on, handoff_time, handoff_weekday: int) -> datetime:
    anchor = datetime.combine(starts_on, handoff_time)
    if rotation_kind == RotationKind.WEEKLY:
        anchor += timedelta(days=(handoff_weekday - starts_on.weekday()) % 7)
    return anchor


def _unit_length(kind: str, every: int) -> tuple[str, int]:
    return {
        RotationKind.DAILY: (rotation.DAYS, 1),
        RotationKind.WEEKLY: (rotation.DAYS, 7),
        RotationKind.EVERY_N_DAYS: (rotation.DAYS, every),
        RotationKind.EVERY_N_HOURS: (rotation.HOURS, every),
    }[kind]


# Compiled rules per schedule, reused while the schedule's version is unchanged (every service
# and admin save of a layer, membership, restriction or override bumps it): (version, zone,
# layers, overrides_from, overrides ending after overrides_from). One query per lookup when warm.
_compiled: dict[int, tuple] = {}


def _load_overrides(schedule_ids, lo, hi) -> dict[int, list]:
    overrides = defaultdict(list)
    qs = Override.objects.filter(end__gt=lo)
    if hi is not None:
        qs = qs.filter(start__lt=hi)
    if schedule_ids is not None:
        qs = qs.filter(schedule_id__in=schedule_ids)
    for pk, schedule_id, layer_id, user_id, replaces_id, start, end in qs.order_by("created_at", "pk").values_list(
            "pk", "schedule_id", "layer_id", "user_id", "replaces_id", "start", "end"):
        overrides[schedule_id].append(rotation.Override(start, end, user_id, layer=layer_id, replaces=replaces_id, key=pk))
    return overrides


def _load_layers(schedule_ids, zones: dict[int, ZoneInfo]) -> dict[int, list]:
    """Layer rules of `schedule_ids` (None: every schedule) as rotation.Layer objects."""
    layers_qs = Layer.objects.all()
    if schedule_ids is not None:
        layers_qs = layers_qs.filter(schedule_id__in=schedule_ids)
    layer_rows = list(layers_qs.order_by("schedule_id", "position", "pk").values_list(
        "pk", "schedule_id", "rotation", "every", "handoff_time", "handoff_weekday", "weekdays_only", "starts_on", "ends_at"))
    scope = {} if schedule_ids is None else {"layer__schedule_id__in": schedule_ids}
    memberships = defaultdict(list)
    membership_rows = list(LayerMembership.objects.filter(**scope).values_list("pk", "layer_id", "effective_from"))
    slots = defaultdict(list)
    member_scope = {} if schedule_ids is None else {"membership__layer__schedule_id__in": schedule_ids}
    for membership_id, user_id, turns in LayerMember.objects.filter(**member_scope).order_by(
            "membership_id", "position", "pk").values_list("membership_id", "user_id", "turns"):
        slots[membership_id].extend([user_id] * turns)
    for pk, layer_id, effective_from in membership_rows:
        memberships[layer_id].append(rotation.Membership(effective_from, tuple(slots[pk])))
    restrictions = defaultdict(list)
    for layer_id, weekdays, start, end in Restriction.objects.filter(**scope).values_list("layer_id", "weekdays", "start_time", "end_time"):
        restrictions[layer_id].append(rotation.Restriction(frozenset(weekdays), start, end))
    layers = defaultdict(list)
    for pk, schedule_id, kind, every, handoff_time, weekday, weekdays_only, starts_on, ends_at in layer_rows:
        if schedule_id not in zones:
            continue
        layers[schedule_id].append(rotation_layer(
            zone=zones[schedule_id], kind=kind, every=every, handoff_time=handoff_time, handoff_weekday=weekday,
            weekdays_only=weekdays_only, starts_on=starts_on, ends_at=ends_at, memberships=memberships[pk],
            restrictions=restrictions[pk], key=pk))
    return layers


def rotation_layer(*, zone: ZoneInfo, kind: str, every: int, handoff_time, handoff_weekday: int, weekdays_only: bool, starts_on,
                   ends_at, memberships, restrictions, key=None) -> rotation.Layer:
    """A layer's rules (saved or only typed into the form) as a rotation.Layer."""
    unit, length = _unit_length(kind, every)
    return rotation.Layer(
        zone=zone, anchor=layer_anchor(rotation_kind=kind, starts_on=starts_on, handoff_time=handoff_time, handoff_weekday=handoff_weekday),
        unit=unit, length=length, memberships=memberships, restrictions=restrictions,
        weekdays=WEEKDAYS if weekdays_only and unit == rotation.DAYS else None, end=ends_at, key=key)


PREVIEW_MAX_TURNS = 10_000


@dataclass
class PreviewRow:
    start: str  # local wall-clock time in the schedule's zone, with its UTC offset
    end: str
    hours: float
    user: object  # None: nobody (an "off" turn)


def local_label(instant: datetime, zone: ZoneInfo) -> str:
    try:
        local = instant.astimezone(zone)
    except OverflowError:
        return f"{instant:%Y-%m-%d %H:%M} UTC"
    offset = f"{local:%z}"
    return f"{local:%a %d %b %H:%M} (UTC{offset[:3]}:{offset[3:5]})"


def layer_preview(*, spec, time_zone: str, layer: Layer | None = None, effective_from: datetime | None = None,
                  at: datetime | None = None, count: int = 6) -> dict:
    """The next `count` handoffs and on-call windows of a layer as `spec` describes it, in the
    schedule's zone, without saving anything: the same rotation maths the pager uses."""
    zone = ZoneInfo(time_zone)
    if sum(turns for _, turns in spec.participants) > PREVIEW_MAX_TURNS:
        raise InvalidInput(f"A cycle of at most {PREVIEW_MAX_TURNS:,} turns can be previewed.", field="participants")
    slots = tuple(user.pk if user else None for user, turns in spec.participants for _ in range(turns))
    memberships = [rotation.Membership(effective_from, slots)]
    if layer is not None and effective_from is not None:  # earlier shifts keep the saved list
        kept = LayerMembership.objects.filter(Q(effective_from__isnull=True) | Q(effective_from__lt=effective_from), layer=layer)
        saved = dict(kept.values_list("pk", "effective_from"))
        members = defaultdict(list)
        for membership_id, user_id, turns in LayerMember.objects.filter(membership_id__in=saved).order_by(
                "membership_id", "position", "pk").values_list("membership_id", "user_id", "turns"):
            members[membership_id].extend([user_id] * turns)
        memberships += [rotation.Membership(when, tuple(members[pk])) for pk, when in saved.items()]
    restrictions = [rotation.Restriction(frozenset(r.weekdays), r.start, r.end) for r in spec.restrictions]
    rules = {"zone": zone, "kind": spec.rotation, "every": spec.every, "handoff_time": spec.handoff_time,
             "handoff_weekday": spec.handoff_weekday, "weekdays_only": spec.weekdays_only, "starts_on": spec.starts_on,
             "ends_at": spec.ends_at, "memberships": memberships}
    turns_only = rotation_layer(**rules, restrictions=())
    windowed = rotation_layer(**rules, restrictions=restrictions)
    now = at or timezone.now()
    start = max(now, turns_only.start_utc)
    end = rotation.later(start, timedelta(days=60))
    handoffs = [(a, b, turns_only.who_at(a)) for a, b, _ in turns_only.turns(start, end)[:count]]
    if handoffs:  # the turn in force: from its real start
        handoffs[0] = (max(turns_only.turn_start(turns_only.turn_index(start)), turns_only.start_utc), *handoffs[0][1:])
    windows = windowed.shifts(start, end)[:count]
    users = users_by_id([w for _, _, w in handoffs] + [w for _, _, w in windows])

    def rows(pieces):
        return [PreviewRow("now" if a == now else local_label(a, zone), local_label(b, zone),
                           round((b - a).total_seconds() / 3600, 2), users.get(w)) for a, b, w in pieces]

    return {"time_zone": time_zone, "handoffs": rows(handoffs), "windows": rows(windows), "restricted": bool(restrictions),
            "all_day": [r for r in spec.restrictions if r.start == r.end]}


def compile_schedules(schedule_ids=None, *, window: tuple[datetime, datetime] | None = None) -> dict[int, rotation.Schedule]:
    """{schedule id: rotation.Schedule} with the overrides touching `window` (default now ..
    14 days). One query (the schedules' versions) when the rules are cached; six otherwise."""
    now = timezone.now()
    lo, hi = window or (now, now + HORIZON)
    schedules = Schedule.objects.filter(archived_at__isnull=True)  # "every schedule": the archive left out
    if schedule_ids is not None:
        schedules = Schedule.objects.all()
        schedule_ids = list(schedule_ids)
        schedules = schedules.filter(pk__in=schedule_ids)
    # The version alone is not enough: a rolled-back schedule's id can come back (SQLite), so
    # the random token of the row is part of the key.
    rows = [(pk, tz, (version, token)) for pk, tz, version, token in schedules.values_list("pk", "time_zone", "version", "ical_token")]
    stale = {pk: tz for pk, tz, version in rows if _compiled.get(pk, (None, None))[:2] != (version, tz)}
    if stale:
        scope = None if schedule_ids is None and len(stale) == len(rows) else list(stale)
        loaded = _load_layers(scope, {pk: ZoneInfo(tz) for pk, tz in stale.items()})
        overrides = _load_overrides(scope, now, None)
        versions = {pk: version for pk, _tz, version in rows}
        for pk, tz in stale.items():
            _compiled[pk] = (versions[pk], tz, loaded.get(pk, []), now, overrides.get(pk, []))
    fresh = None
    if any(lo < _compiled[pk][3] for pk, _tz, _v in rows):  # a window in the past: read the overrides
        fresh = _load_overrides([pk for pk, _tz, _v in rows] if schedule_ids is not None else None, lo, hi)
    out = {}
    for pk, _tz, _v in rows:
        _version, _zone, layers, since, cached = _compiled[pk]
        overrides = fresh.get(pk, []) if fresh is not None else [o for o in cached if o.end > lo and o.start < hi]
        out[pk] = rotation.Schedule(layers=layers, overrides=overrides, key=pk)
    return out


def users_by_id(ids) -> dict:
    ids = {i for i in ids if i is not None}
    return get_user_model().objects.in_bulk(ids) if ids else {}


def oncall_at(schedule_ids=None, at: datetime | None = None) -> dict[int, int | None]:
    """{schedule id: user id on call at `at` (now by default) or None}."""
    at = at or timezone.now()
    compiled = compile_schedules(schedule_ids, window=(at, at + timedelta(seconds=1)))
    return {pk: s.who_at(at) for pk, s in compiled.items()}


def layer_oncall_at(layer: Layer, at: datetime | None = None):
    at = at or timezone.now()
    compiled = compile_schedules([layer.schedule_id], window=(at, at + timedelta(seconds=1)))
    return _layer_who(compiled, layer, at)


def _layer_who(compiled: dict[int, rotation.Schedule], layer: Layer, at: datetime):
    """Who is on call in `layer` at `at`, from schedules compiled around `at` (None: nobody)."""
    schedule = compiled.get(layer.schedule_id)
    target = next((lay for lay in schedule.layers if lay.key == layer.pk), None) if schedule else None
    return schedule.layer_who_at(target, at) if target else None


@dataclass
class NowRow:
    schedule: Schedule
    current: object
    next_at: datetime | None
    next_user: object
    gap_ahead: bool


def oncall_now_rows(at: datetime | None = None) -> list[NowRow]:
    """Every schedule's current and next person, and whether a gap lies in the next 14 days."""
    at = at or timezone.now()
    compiled = compile_schedules(window=(at, at + HORIZON))
    facts = {}
    for pk, s in compiled.items():
        pieces = s.shifts(at, at + HORIZON)
        change = rotation.next_change(s, at)
        facts[pk] = (s.who_at(at), change, bool(rotation.gaps_of(pieces, at, at + HORIZON)))
    users = users_by_id([f[0] for f in facts.values()] + [f[1][1] for f in facts.values() if f[1]])
    rows = []
    for schedule in Schedule.objects.filter(pk__in=list(compiled)):
        current, change, gap = facts[schedule.pk]
        rows.append(NowRow(schedule, users.get(current), change[0] if change else None,
                           users.get(change[1]) if change else None, gap))
    return rows


def schedule_gaps(schedule_ids=None, at: datetime | None = None) -> dict[int, list[tuple[datetime, datetime]]]:
    at = at or timezone.now()
    compiled = compile_schedules(schedule_ids, window=(at, at + HORIZON))
    return {pk: s.gaps(at, at + HORIZON) for pk, s in compiled.items()}


@dataclass
class Shift:
    schedule: Schedule
    start: datetime
    end: datetime
    user: object


def shifts_for_user(user, start: datetime, end: datetime) -> list[Shift]:
    compiled = compile_schedules(window=(start, end))
    schedules = Schedule.objects.in_bulk(list(compiled))
    out = []
    for pk, s in compiled.items():
        out.extend(Shift(schedules[pk], a, b, user) for a, b, who in s.shifts(start, end) if who == user.pk)
    out.sort(key=lambda sh: sh.start)
    return out


def schedule_shifts(schedule: Schedule, start: datetime, end: datetime) -> list[tuple[datetime, datetime, object]]:
    compiled = compile_schedules([schedule.pk], window=(start, end))[schedule.pk]
    pieces = compiled.shifts(start, end)
    users = users_by_id(p[2] for p in pieces)
    return [(a, b, users.get(who)) for a, b, who in pieces]


# --- timeline drawing --------------------------------------------------------------------


@dataclass
class Bar:
    x: float
    width: float
    label: str
    css: str
    title: str


@dataclass
class Row:
    label: str
    bars: list


def _span(a, b, zone) -> str:
    """'Tue 01 Dec 09:00 – Tue 01 Dec 17:00 America/New_York': a stretch in the schedule's zone, named."""
    return f"{timezone.localtime(a, zone):%a %d %b %H:%M} – {timezone.localtime(b, zone):%a %d %b %H:%M} {zone.key}"


def _bars(pieces, start, end, users, css, zone, width=1000.0):
    span = (end - start).total_seconds()
    bars = []
    for a, b, who in pieces:
        user = users.get(who)
        name = (user.get_full_name() or user.username) if user else "?"
        x = (a - start).total_seconds() / span * width
        w = max((b - a).total_seconds() / span * width, 1.0)
        bars.append(Bar(round(x, 2), round(w, 2), name,
                        f"{css} who-{(who or 0) % 8}",
                        f"{name}: {_span(a, b, zone)}"))
    return bars


def schedule_timeline(schedule: Schedule, start: datetime | None = None, days: int = 14) -> dict:
    """Rows for the SVG timeline: each layer, the overrides, the final result and its gaps."""
    start = start or timezone.now()
    end = start + timedelta(days=days)
    compiled = compile_schedules([schedule.pk], window=(start, end))[schedule.pk]
    layer_names = dict(Layer.objects.filter(schedule=schedule).values_list("pk", "name"))
    layer_pieces = [(layer, compiled.layer_shifts(layer, start, end)) for layer in compiled.layers]
    override_pieces = [(max(o.start, start), min(o.end, end), o.who) for o in compiled.overrides]
    final = compiled.shifts(start, end)
    gaps = rotation.gaps_of(final, start, end)
    ids = [p[2] for _, ps in layer_pieces for p in ps] + [p[2] for p in override_pieces] + [p[2] for p in final]
    users = users_by_id(ids)
    zone = ZoneInfo(schedule.time_zone)
    rows = [Row(layer_names.get(layer.key, "Layer"), _bars(ps, start, end, users, "bar-layer", zone)) for layer, ps in layer_pieces]
    rows.append(Row("Overrides", _bars(override_pieces, start, end, users, "bar-override", zone)))
    rows.append(Row("Final", _bars(final, start, end, users, "bar-final", zone)))
    span = (end - start).total_seconds()
    gap_bars = [Bar(round((a - start).total_seconds() / span * 1000, 2), round(max((b - a).total_seconds() / span * 1000, 1.0), 2),
                    "gap", "bar-gap", f"Nobody on call: {_span(a, b, zone)}")
                for a, b in gaps]
    ticks = []
    for d in range(days + 1):
        local_day = (start.astimezone(zone) + timedelta(days=d)).date()
        instant = rotation.to_utc(datetime.combine(local_day, datetime.min.time()), zone)
        if start <= instant <= end:
            ticks.append({"x": round((instant - start).total_seconds() / span * 1000, 2), "label": f"{local_day:%a %d}"})
    for i, row in enumerate(rows):
        row.y = 30 + i * 40
    return {"rows": rows, "gaps": gap_bars, "gap_ranges": gaps, "ticks": ticks, "start": start, "end": end,
            "height": 30 + len(rows) * 40 + 10, "final": [(a, b, users.get(w)) for a, b, w in final]}


# --- escalation --------------------------------------------------------------------------


def escalations_for_incident(incident) -> list[Escalation]:
    return list(Escalation.objects.filter(incident=incident).prefetch_related("steps").order_by("started_at", "pk"))


def next_steps(incident, limit: int = 3) -> list[EscalationStep]:
    return list(EscalationStep.objects.filter(
        escalation__incident=incident, escalation__state=EscalationState.ACTIVE, status=StepStatus.PENDING,
    ).order_by("due_at", "level", "slot")[:limit])


# --- metrics -----------------------------------------------------------------------------


def metric_steps() -> list[tuple[tuple[str, ...], float]]:
    """Pending escalation steps, and how many are overdue (a stuck worker or sweep shows here)."""
    now = timezone.now()
    pending = EscalationStep.objects.filter(status=StepStatus.PENDING)
    return [(("pending",), float(pending.count())), (("overdue",), float(pending.filter(due_at__lt=now - timedelta(seconds=30)).count()))]


def metric_steps_unfired() -> list[tuple[tuple[str, ...], float]]:
    """Steps whose due time has passed and that have not fired (nor been cancelled)."""
    return [((), float(EscalationStep.objects.filter(status=StepStatus.PENDING, due_at__lte=timezone.now()).count()))]


def metric_steps_unfired_oldest() -> list[tuple[tuple[str, ...], float]]:
    oldest = EscalationStep.objects.filter(status=StepStatus.PENDING, due_at__lte=timezone.now()).aggregate(t=Min("due_at"))["t"]
    return [((), age_seconds(oldest))]


def metric_active_escalations() -> list[tuple[tuple[str, ...], float]]:
    return [((), float(Escalation.objects.filter(state=EscalationState.ACTIVE).count()))]


# What policy_problems (and the policy pages) read of a policy, prefetched.
POLICY_TARGETS = ("levels__targets__schedule", "levels__targets__layer__schedule", "levels__targets__user", "levels__targets__group")


def policy_problems(policies, at: datetime | None = None) -> dict[int, list[str]]:
    """{policy id: what would make it page nobody at `at` (now)}, per level: a person who is
    deactivated or has no way to be reached, a group with nobody active in it, a schedule or
    layer with nobody on call. Policies should be prefetched with `levels__targets__*`."""
    at = at or timezone.now()
    policies = list(policies)
    targets = [(p, n, t) for p in policies for n, level in enumerate(p.levels.all(), start=1) for t in level.targets.all()]
    schedule_ids = {t.schedule_id for _, _, t in targets if t.kind == TargetKind.SCHEDULE}
    layers = {t.layer_id: t.layer for _, _, t in targets if t.kind == TargetKind.LAYER}
    compiled = compile_schedules(schedule_ids | {layer.schedule_id for layer in layers.values()}, window=(at, at + timedelta(seconds=1)))
    group_ids = {t.group_id for _, _, t in targets if t.kind == TargetKind.GROUP}
    group_members = {g.pk: [u.pk for u in g.user_set.all() if u.is_active] for g in Group.objects.filter(pk__in=group_ids).prefetch_related("user_set")}

    people: dict[int, set] = {}
    found: dict[int, list[tuple[int, str]]] = {p.pk: [] for p in policies}
    for policy, n, t in targets:
        if t.kind == TargetKind.USER:
            people.setdefault(t.user_id, set()).add((policy.pk, n))
        elif t.kind == TargetKind.GROUP and not group_members.get(t.group_id):
            found[policy.pk].append((n, f"nobody active in the group {t.group}."))
        elif t.kind == TargetKind.SCHEDULE and (compiled.get(t.schedule_id) is None or compiled[t.schedule_id].who_at(at) is None):
            found[policy.pk].append((n, f"nobody is on call now in {t.schedule}."))
        elif t.kind == TargetKind.LAYER and _layer_who(compiled, t.layer, at) is None:
            found[policy.pk].append((n, f"nobody is on call now in {t.layer}."))
    if people:
        users = get_user_model().objects.in_bulk(people)
        unreachable = notification_selectors.unreachable(users.values())
        for user_id, uses in people.items():
            user = users[user_id]
            name = user.get_full_name() or user.get_username()
            if not user.is_active:
                problem = f"{name} is deactivated."
            elif user_id in unreachable:
                problem = f"{name} {unreachable[user_id]}."
            else:
                continue
            for policy_id, n in sorted(uses):
                found[policy_id].append((n, problem))
    return {pk: [f"Level {n}: {text}" for n, text in sorted(problems)] for pk, problems in found.items()}
