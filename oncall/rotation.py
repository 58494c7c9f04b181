"""Who is on call, computed from the rules. Pure Python: no Django, no database.

A layer's turns are laid on the schedule's *wall clock*: turn k starts at
`anchor + k * length` in local time (or, for weekday-only rotations, at the handoff time of
the (k * length)-th allowed weekday). Local times are turned into instants with the zone's
rules, so a 09:00 handoff stays at 09:00 across daylight-saving changes (that shift is then
an hour shorter or longer). A local time that does not exist (spring forward) is read with the
offset in force before the jump (02:30 -> 03:30); an ambiguous one (fall back) is its first
occurrence.

Participants are slots: each has a number of consecutive turns (uneven splits: 4 on, 3 off)
and may be empty (an "off" slot). Membership versions take effect at an instant without
touching earlier times: from `effective_from`, the new list starts with its first slot.
Restrictions keep a layer to local time-of-day / weekday windows.

Composition: layer overrides apply to their layer; the schedule's final answer is the first
layer (in order) with someone on call; schedule-wide overrides apply on top.

Every instant is an aware datetime; the results are participant ids (opaque to this module).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

HOURS, DAYS = "hours", "days"


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive local wall-clock time -> an aware UTC instant (see the module doc for gaps)."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def to_local(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


@dataclass(frozen=True)
class Restriction:
    """A local window: from `start` to `end` on each of `weekdays` (0 = Monday). `end <= start`
    runs past midnight into the next day; `start == end` is the whole day."""

    weekdays: frozenset[int]
    start: time
    end: time

    def contains_local(self, local: datetime) -> bool:
        t, wd = local.time(), local.weekday()
        if self.start == self.end:
            return wd in self.weekdays
        if self.start < self.end:
            return wd in self.weekdays and self.start <= t < self.end
        return (wd in self.weekdays and t >= self.start) or ((wd - 1) % 7 in self.weekdays and t < self.end)

    def windows(self, first: date, last: date) -> Iterable[tuple[datetime, datetime]]:
        """Local naive windows starting on days first-1 .. last."""
        d = first - timedelta(days=1)
        while d <= last:
            if d.weekday() in self.weekdays:
                start = datetime.combine(d, self.start)
                end_day = d if self.start < self.end else d + timedelta(days=1)
                yield start, datetime.combine(end_day, self.end)
            d += timedelta(days=1)


@dataclass(frozen=True)
class Membership:
    """The participant slots in force from `effective_from` (None: from the beginning)."""

    effective_from: datetime | None
    slots: tuple  # one entry per turn of the cycle: a participant id or None (off)


@dataclass
class Layer:
    zone: ZoneInfo
    anchor: datetime  # naive local start of turn 0 (the first handoff)
    unit: str = DAYS  # HOURS or DAYS
    length: int = 7  # units per turn (daily 1, weekly 7, every N)
    memberships: Sequence[Membership] = ()
    restrictions: Sequence[Restriction] = ()
    weekdays: frozenset[int] | None = None  # DAYS only: turns advance on these weekdays only
    end: datetime | None = None  # aware; the layer stops here
    key: object = None  # the caller's id for this layer
    _starts: list = field(default_factory=list, repr=False)
    _offsets: list = field(default_factory=list, repr=False)
    _turn: tuple = field(default=(), repr=False)  # (start, end, k) of the last turn looked up

    def __post_init__(self):
        if self.length < 1:
            raise ValueError("a turn lasts at least one unit")
        if self.weekdays is not None:
            if self.unit != DAYS or not self.weekdays:
                raise ValueError("weekday-only turns need a day-based rotation and at least one weekday")
            while self.anchor.weekday() not in self.weekdays:
                self.anchor += timedelta(days=1)
        ordered = sorted(self.memberships, key=lambda m: (m.effective_from is not None, m.effective_from or datetime.min))
        self.memberships = ordered
        self.start_utc = to_utc(self.anchor, self.zone)
        self._starts = [m.effective_from or self.start_utc for m in ordered]
        self._offsets = [max(0, self.turn_index(s)) if m.effective_from else 0 for m, s in zip(ordered, self._starts, strict=True)]

    # --- turns ------------------------------------------------------------------------------

    def _allowed_per_week(self) -> int:
        return len(self.weekdays)

    def _nth_allowed_day(self, n: int) -> date:
        """The n-th allowed day counting the anchor's day as 0 (n may be negative)."""
        per_week = self._allowed_per_week()
        weeks, rem = divmod(n, per_week)
        d = self.anchor.date() + timedelta(weeks=weeks)
        while rem:
            d += timedelta(days=1)
            if d.weekday() in self.weekdays:
                rem -= 1
        return d

    def _allowed_index(self, local: datetime) -> int:
        """How many allowed handoffs after the anchor's have happened by `local` (floor)."""
        days = (local.date() - self.anchor.date()).days
        weeks, rem = divmod(days, 7)
        count = weeks * self._allowed_per_week()
        d = self.anchor.date() + timedelta(weeks=weeks)
        for _ in range(rem):
            d += timedelta(days=1)
            if d.weekday() in self.weekdays:
                count += 1
        if local.time() < self.anchor.time() and local.date().weekday() in self.weekdays:
            count -= 1  # today's handoff has not happened yet
        return count

    def turn_start_local(self, k: int) -> datetime:
        if self.unit == HOURS:
            return self.anchor + timedelta(hours=k * self.length)
        if self.weekdays is None:
            return self.anchor + timedelta(days=k * self.length)
        return datetime.combine(self._nth_allowed_day(k * self.length), self.anchor.time())

    def turn_start(self, k: int) -> datetime:
        return to_utc(self.turn_start_local(k), self.zone)

    def turn_index(self, instant: datetime) -> int:
        """The turn containing `instant` (negative before the anchor)."""
        local = to_local(instant, self.zone)
        if self.unit == HOURS:
            k = int((local - self.anchor) // timedelta(hours=self.length))
        elif self.weekdays is None:
            k = int((local - self.anchor) // timedelta(days=self.length))
        else:
            k = self._allowed_index(local) // self.length
        # Local arithmetic is off by one around DST changes; settle it on real instants.
        while self.turn_start(k) > instant:
            k -= 1
        while self.turn_start(k + 1) <= instant:
            k += 1
        return k

    # --- who --------------------------------------------------------------------------------

    def _membership_at(self, instant: datetime) -> int:
        return bisect_right(self._starts, instant) - 1

    def _slot_owner(self, m: int, k: int):
        slots = self.memberships[m].slots
        if not slots:
            return None
        return slots[(k - self._offsets[m]) % len(slots)]

    def restricted_ok(self, instant: datetime) -> bool:
        if not self.restrictions:
            return True
        local = to_local(instant, self.zone)
        return any(r.contains_local(local) for r in self.restrictions)

    def who_at(self, instant: datetime):
        if instant < self.start_utc or (self.end is not None and instant >= self.end):
            return None
        m = self._membership_at(instant)
        if m < 0:
            return None
        if not self.restricted_ok(instant):
            return None
        turn = self._turn  # one tuple read: safe to share between threads
        if turn and turn[0] <= instant < turn[1]:
            k = turn[2]
        else:
            k = self.turn_index(instant)
            self._turn = (self.turn_start(k), self.turn_start(k + 1), k)
        return self._slot_owner(m, k)

    def shifts(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime, object]]:
        """Intervals [a, b) with someone on call, inside [start, end), merged when the same
        participant continues."""
        lo = max(start, self.start_utc)
        hi = min(end, self.end) if self.end is not None else end
        if lo >= hi:
            return []
        cuts = {lo, hi}
        k = self.turn_index(lo)
        while True:
            k += 1
            s = self.turn_start(k)
            if s >= hi:
                break
            cuts.add(s)
        cuts.update(s for s in self._starts if lo < s < hi)
        pieces = []
        ordered = sorted(cuts)
        for a, b in zip(ordered, ordered[1:], strict=False):
            m = self._membership_at(a)
            who = None if m < 0 else self._slot_owner(m, self.turn_index(a))
            if who is not None:
                pieces.append((a, b, who))
        if self.restrictions:
            pieces = intersect(pieces, self._restriction_windows(lo, hi))
        return merge(pieces)

    def _restriction_windows(self, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime]]:
        first, last = to_local(lo, self.zone).date(), to_local(hi, self.zone).date()
        windows = []
        for r in self.restrictions:
            for a, b in r.windows(first, last):
                ua, ub = to_utc(a, self.zone), to_utc(b, self.zone)
                if ub > lo and ua < hi:
                    windows.append((max(ua, lo), min(ub, hi)))
        windows.sort()
        union = []
        for a, b in windows:
            if union and a <= union[-1][1]:
                union[-1] = (union[-1][0], max(union[-1][1], b))
            else:
                union.append((a, b))
        return union


def intersect(pieces, windows):
    out = []
    for a, b, who in pieces:
        for wa, wb in windows:
            if wb <= a:
                continue
            if wa >= b:
                break
            out.append((max(a, wa), min(b, wb), who))
    return out


def merge(pieces):
    out = []
    for a, b, who in pieces:
        if out and out[-1][2] == who and out[-1][1] == a:
            out[-1] = (out[-1][0], b, who)
        else:
            out.append((a, b, who))
    return out


@dataclass(frozen=True)
class Override:
    """`who` is on call in [start, end). `layer` None: for the whole schedule; otherwise for
    that layer (its key). `replaces` set: only where that participant would be on call."""

    start: datetime
    end: datetime
    who: object
    layer: object = None
    replaces: object = None
    key: object = None


def _apply(base_who, instant, overrides):
    who = base_who
    for o in overrides:  # later ones win
        if o.start <= instant < o.end and (o.replaces is None or o.replaces == base_who):
            who = o.who
    return who


@dataclass
class Schedule:
    layers: Sequence[Layer]
    overrides: Sequence[Override] = ()
    key: object = None

    def __post_init__(self):
        self._layer_overrides = {}
        self._final_overrides = []
        for o in self.overrides:
            if o.layer is not None:
                self._layer_overrides.setdefault(o.layer, []).append(o)
            elif o.replaces is not None:
                for layer in self.layers:  # "Sam covers Dana": wherever Dana is on
                    self._layer_overrides.setdefault(layer.key, []).append(o)
            else:
                self._final_overrides.append(o)

    def layer_who_at(self, layer: Layer, instant: datetime):
        return _apply(layer.who_at(instant), instant, self._layer_overrides.get(layer.key, ()))

    def who_at(self, instant: datetime):
        base = None
        for layer in self.layers:
            base = self.layer_who_at(layer, instant)
            if base is not None:
                break
        return _apply(base, instant, self._final_overrides)

    def layer_shifts(self, layer: Layer, start: datetime, end: datetime):
        return _overlay(layer.shifts(start, end), self._layer_overrides.get(layer.key, ()), start, end)

    def shifts(self, start: datetime, end: datetime):
        """The final result: [(a, b, who)] covering only the on-call time; gaps are absent."""
        per_layer = [self.layer_shifts(layer, start, end) for layer in self.layers]
        cuts = {start, end}
        for pieces in per_layer:
            for a, b, _ in pieces:
                cuts.update((a, b))
        ordered = sorted(c for c in cuts if start <= c <= end)
        combined = []
        idx = [0] * len(per_layer)
        for a, b in zip(ordered, ordered[1:], strict=False):
            who = None
            for n, pieces in enumerate(per_layer):
                while idx[n] < len(pieces) and pieces[idx[n]][1] <= a:
                    idx[n] += 1
                if idx[n] < len(pieces) and pieces[idx[n]][0] <= a:
                    who = pieces[idx[n]][2]
                    break
            if who is not None:
                combined.append((a, b, who))
        return _overlay(merge(combined), self._final_overrides, start, end)

    def gaps(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        return gaps_of(self.shifts(start, end), start, end)


def gaps_of(pieces, start, end):
    out, at = [], start
    for a, b, _ in pieces:
        if a > at:
            out.append((at, a))
        at = max(at, b)
    if at < end:
        out.append((at, end))
    return out


def _overlay(pieces, overrides, start, end):
    """Apply overrides to an interval list (the interval form of `_apply`)."""
    relevant = [o for o in overrides if o.end > start and o.start < end]
    if not relevant:
        return pieces
    cuts = {start, end}
    for a, b, _ in pieces:
        cuts.update((a, b))
    for o in relevant:
        cuts.update(c for c in (o.start, o.end) if start < c < end)
    ordered = sorted(cuts)
    out, i = [], 0
    for a, b in zip(ordered, ordered[1:], strict=False):
        while i < len(pieces) and pieces[i][1] <= a:
            i += 1
        base = pieces[i][2] if i < len(pieces) and pieces[i][0] <= a else None
        who = _apply(base, a, relevant)
        if who is not None:
            out.append((a, b, who))
    return merge(out)


def next_change(schedule: Schedule, instant: datetime, horizon: timedelta = timedelta(days=14)):
    """(when, who) of the next change of the final answer after `instant` (who None: a gap
    begins), or None when nothing changes within the horizon."""
    pieces = schedule.shifts(instant, instant + horizon)
    if not pieces:
        return None
    if pieces[0][0] > instant:  # nobody now
        return pieces[0][0], pieces[0][2]
    end = pieces[0][1]
    if len(pieces) > 1 and pieces[1][0] == end:
        return end, pieces[1][2]
    if end < instant + horizon:
        return end, None
    return None
