"""Who is on call, computed from the rules. Pure Python: no Django, no database.

One construction answers every question. A layer's rules (turns, participant slots,
membership changes, restriction windows) become intervals `[a, b) -> who` (`Layer.shifts`);
the schedule resolves each instant from those intervals with one function (`_resolve`: the
layer's own overrides, then the first layer with someone on call, then the schedule-wide
overrides). `Schedule.shifts(a, b)` applies it between consecutive change points and
`Schedule.who_at(t)` applies it at `t` to the intervals containing `t`, so the pager, the
schedule page, the iCal feeds and the gap warnings cannot disagree.

Local wall-clock times become instants by one rule (`to_utc`): a local time is the *first
instant at which the zone's clock shows that time or later*. So a time inside a
spring-forward gap is the first instant after the gap (02:30 -> 03:00 when the clock jumps
from 02:00 to 03:00) and an ambiguous time in the repeated fall-back hour is its first
occurrence. Handoffs and restriction-window edges both follow it.

A layer's turns are laid on the schedule's wall clock: turn k starts at `anchor + k * length`
in local time (or, for weekday-only rotations, at the handoff time of the (k * length)-th
allowed weekday), so a 09:00 handoff stays at 09:00 across daylight-saving changes (that turn
is then an hour shorter or longer). Each handoff moves to the next person: when turns collapse
into one instant (hourly turns at 02:00 and 03:00 both start at 03:00 when 02:00 does not
exist) they are one handoff, to the next slot, so nobody's turn is lost; the order then
continues from there.

Participants are slots: each has a number of consecutive turns (uneven splits: 4 on, 3 off)
and may be empty (an "off" slot). Membership versions take effect at an instant without
touching earlier times: from `effective_from`, the new list starts with its first slot.
Restrictions keep a layer to local windows: from `start` on each of `weekdays` to `end` the
same day, or the next day when `end <= start` (an equal start and end runs to the same time
the next day: 24 hours, 23 or 25 across a daylight-saving change).

Every instant is an aware datetime; the results are participant ids (opaque to this module).
Instants beyond what datetime can hold saturate at its limits instead of raising.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import islice
from zoneinfo import ZoneInfo

HOURS, DAYS = "hours", "days"
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)
# How much a layer computes beyond a short request (the pager's "now"), reused until it passes.
LOOKAHEAD = timedelta(hours=6)
# No zone has skipped more than a day at once: turns further apart than this never collapse.
LONGEST_GAP = timedelta(days=2)


def later(instant: datetime, delta: timedelta) -> datetime:
    try:
        return instant + delta
    except OverflowError:
        return LATEST


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive local wall-clock time -> the first instant at which the clock shows it or later."""
    aware = local.replace(tzinfo=zone, fold=0)
    try:
        before, after = aware.utcoffset(), aware.replace(fold=1).utcoffset()
        if before >= after:  # an ordinary time, or the first occurrence of a repeated one
            return (local - before).replace(tzinfo=UTC)
        return _gap_end(local - after, local - before, zone)
    except OverflowError:
        return LATEST if local.year > 1 else EARLIEST


def to_local(instant: datetime, zone: ZoneInfo) -> datetime:
    try:
        return instant.astimezone(zone).replace(tzinfo=None)
    except OverflowError:
        return datetime.max if instant.year > 1 else datetime.min


def _offset_at(seconds: int, zone: ZoneInfo) -> timedelta:
    return datetime.fromtimestamp(seconds, zone).utcoffset()


def _transition(lo: int, hi: int, zone: ZoneInfo) -> int:
    """The whole second in (lo, hi] where the zone's offset changes (it differs at lo and hi)."""
    first = _offset_at(lo, zone)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset_at(mid, zone) == first:
            lo = mid
        else:
            hi = mid
    return hi


@lru_cache(maxsize=4096)
def _gap_end(low: datetime, high: datetime, zone: ZoneInfo) -> datetime:
    """The instant a spring-forward gap ends: between `low` (the local time read with the
    offset after the jump) and `high` (read with the offset before), naive UTC."""
    lo, hi = int(low.replace(tzinfo=UTC).timestamp()) - 1, int(high.replace(tzinfo=UTC).timestamp()) + 1
    return datetime.fromtimestamp(_transition(lo, hi, zone), UTC)


@lru_cache(maxsize=1 << 16)
def _year_gaps(zone: ZoneInfo, year: int) -> tuple[tuple[datetime, datetime], ...]:
    """The spring-forward gaps [first missing local time, first local time after) that start
    in `year`, found by sampling the offset weekly and bisecting each change to the second."""
    if not 1 < year < 9999:
        return ()
    u = int(datetime(year, 1, 1, tzinfo=UTC).timestamp()) - 3 * 86400
    stop = int(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp()) + 3 * 86400
    gaps, offset = [], _offset_at(u, zone)
    while u < stop:
        nxt = min(u + 7 * 86400, stop)
        new = _offset_at(nxt, zone)
        if new != offset:
            t = _transition(u, nxt, zone)
            before, after = _offset_at(t - 1, zone), _offset_at(t, zone)
            moment = datetime.fromtimestamp(t, UTC).replace(tzinfo=None)
            if after > before and (moment + before).year == year:
                gaps.append((moment + before, moment + after))
        u, offset = nxt, new
    return tuple(gaps)


@dataclass(frozen=True)
class Restriction:
    """A local window: from `start` on each of `weekdays` (0 = Monday) to `end`, the same day,
    or the next day when `end <= start` (equal: the same time the next day)."""

    weekdays: frozenset[int]
    start: time
    end: time

    def windows(self, first: date, last: date) -> Iterable[tuple[datetime, datetime]]:
        """Local naive windows starting on days first-1 .. last."""
        try:
            d = first - timedelta(days=1)
        except OverflowError:
            d = first
        while d <= last:
            if d.weekday() in self.weekdays:
                start = datetime.combine(d, self.start)
                try:
                    end_day = d if self.start < self.end else d + timedelta(days=1)
                except OverflowError:
                    yield start, datetime.max
                    return
                yield start, datetime.combine(end_day, self.end)
            if d == date.max:
                return
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
    # Turns k that start at the same instant as turn k - 1 (collapsed handoffs), for the years
    # up to `_collapsed_until`; extended on demand.
    _collapsed: list = field(default_factory=list, repr=False)
    _collapsed_until: int = field(default=0, repr=False)
    _built: tuple = field(default=(), repr=False)  # (lo, hi, pieces, ends): the last intervals computed

    def __post_init__(self):
        if self.length < 1:
            raise ValueError("a turn lasts at least one unit")
        if self.weekdays is not None:
            if self.unit != DAYS or not self.weekdays:
                raise ValueError("weekday-only turns need a day-based rotation and at least one weekday")
            while self.anchor.weekday() not in self.weekdays:
                self.anchor += timedelta(days=1)
        self.step = timedelta(hours=self.length) if self.unit == HOURS else timedelta(days=self.length)
        self._collapsed_until = self.anchor.year - 1
        ordered = sorted(self.memberships, key=lambda m: (m.effective_from is not None, m.effective_from or datetime.min))
        self.memberships = ordered
        self.start_utc = to_utc(self.anchor, self.zone)
        self._starts = [m.effective_from or self.start_utc for m in ordered]
        self._offsets = [self.handoff_number(max(0, self.turn_index(s))) if m.effective_from else 0
                         for m, s in zip(ordered, self._starts, strict=True)]

    # --- turns ------------------------------------------------------------------------------

    def _nth_allowed_day(self, n: int) -> date:
        """The n-th allowed day counting the anchor's day as 0 (n may be negative)."""
        weeks, rem = divmod(n, len(self.weekdays))
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
        count = weeks * len(self.weekdays)
        d = self.anchor.date() + timedelta(weeks=weeks)
        for _ in range(rem):
            d += timedelta(days=1)
            if d.weekday() in self.weekdays:
                count += 1
        if local.time() < self.anchor.time() and local.date().weekday() in self.weekdays:
            count -= 1  # today's handoff has not happened yet
        return count

    def _local_index(self, local: datetime) -> int:
        """The last turn whose local start is at or before `local`."""
        if self.weekdays is None:
            return int((local - self.anchor) // self.step)
        return self._allowed_index(local) // self.length

    def turn_start_local(self, k: int) -> datetime:
        try:
            if self.weekdays is None:
                return self.anchor + k * self.step
            return datetime.combine(self._nth_allowed_day(k * self.length), self.anchor.time())
        except OverflowError:
            return datetime.max if k > 0 else datetime.min

    def turn_start(self, k: int) -> datetime:
        local = self.turn_start_local(k)
        if local in (datetime.max, datetime.min):  # beyond what datetime holds
            return LATEST if k > 0 else EARLIEST
        return to_utc(local, self.zone)

    def turn_index(self, instant: datetime) -> int:
        """The turn in force at `instant`: the last one starting at or before it (negative
        before the anchor; of turns collapsed into one instant, the last)."""
        k = self._local_index(to_local(instant, self.zone))
        # Local arithmetic is off by one around DST changes; settle it on real instants.
        while self.turn_start(k) > instant:
            k -= 1
        while self.turn_start(k + 1) <= instant:
            k += 1
        return k

    def handoff_number(self, k: int) -> int:
        """Which handoff turn k is (turns collapsed into one instant are one handoff, numbered
        as the first of them): the slot sequence advances once per handoff."""
        if k <= 0 or self.step > LONGEST_GAP:
            return k
        year = self.turn_start_local(k).year
        if year > self._collapsed_until:
            self._collect_collapsed(year)
        return k - bisect_right(self._collapsed, k)

    def _collect_collapsed(self, year: int) -> None:
        found = list(self._collapsed)
        for y in range(self._collapsed_until + 1, year + 1):
            for first, after in _year_gaps(self.zone, y):
                if after - first < self.step:
                    continue  # turns further apart than the gap cannot both fall in it
                j0 = self._local_index(first)
                if self.turn_start_local(j0) < first:
                    j0 += 1
                j1 = self._local_index(after)  # turns j0..j1 all start at the gap's end
                found.extend(range(max(j0, 0) + 1, j1 + 1))
        self._collapsed = sorted(set(found))  # published before the year mark, for other threads
        self._collapsed_until = year

    # --- intervals --------------------------------------------------------------------------

    def _membership_at(self, instant: datetime) -> int:
        return bisect_right(self._starts, instant) - 1

    def _slot_owner(self, m: int, handoff: int):
        slots = self.memberships[m].slots
        if not slots:
            return None
        return slots[(handoff - self._offsets[m]) % len(slots)]

    def turns(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime, int]]:
        """The turns tiling [start, end), clipped to it: (a, b, handoff number). No turn is
        empty; turns collapsed into one instant appear once."""
        out = []
        k = self.turn_index(start)
        a = start
        while a < end:
            b = min(self.turn_start(k + 1), end)
            if b > a:
                out.append((a, b, self.handoff_number(k)))
                a = b
            k += 1
        return out

    def _build(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime, object]]:
        """The one place a layer's rules become intervals: [a, b) -> who, merged."""
        lo = max(start, self.start_utc)
        hi = min(end, self.end) if self.end is not None else end
        if lo >= hi or not self.memberships:
            return []
        changes = [s for s in self._starts if lo < s < hi]
        pieces = []
        for a, b, handoff in self.turns(lo, hi):
            for c in [s for s in changes if a < s < b] + [b]:
                m = self._membership_at(a)
                who = None if m < 0 else self._slot_owner(m, handoff)
                if who is not None:
                    pieces.append((a, c, who))
                a = c
        if self.restrictions:
            pieces = intersect(pieces, self.windows(lo, hi))
        return merge(pieces)

    def windows(self, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime]]:
        """The restriction windows as instants, clipped to [lo, hi), overlapping ones joined."""
        first, last = to_local(lo, self.zone).date(), to_local(hi, self.zone).date()
        windows = []
        for r in self.restrictions:
            for a, b in r.windows(first, last):
                ua, ub = to_utc(a, self.zone), to_utc(b, self.zone)
                if ub > lo and ua < hi and ub > ua:
                    windows.append((max(ua, lo), min(ub, hi)))
        windows.sort()
        union = []
        for a, b in windows:
            if union and a <= union[-1][1]:
                union[-1] = (union[-1][0], max(union[-1][1], b))
            else:
                union.append((a, b))
        return union

    def shifts(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime, object]]:
        """Intervals [a, b) with someone on call, inside [start, end), merged when the same
        participant continues. Computing a range and clipping it to a part gives that part,
        so a short request reuses the last range computed when it lies inside."""
        if start >= end:
            return []
        built = self._covering(start, end)
        return clip(built[2], built[3], start, end)

    def _covering(self, start: datetime, end: datetime) -> tuple:
        built = self._built  # one tuple read: safe to share between threads
        if not (built and built[0] <= start and end <= built[1]):
            hi = max(end, later(start, LOOKAHEAD))
            pieces = self._build(start, hi)
            built = self._built = (start, hi, pieces, [b for _, b, _ in pieces])
        return built

    def piece_at(self, instant: datetime):
        """Who the interval of `shifts` containing `instant` names (None: nobody)."""
        built = self._built
        if not (built and built[0] <= instant < built[1]):
            built = self._covering(instant, later(instant, timedelta(microseconds=1)))
        pieces, ends = built[2], built[3]
        i = bisect_right(ends, instant)
        return pieces[i][2] if i < len(pieces) and pieces[i][0] <= instant else None

    who_at = piece_at


def clip(pieces, ends, start, end):
    """`pieces` (sorted, `ends` their ends) cut to [start, end)."""
    out = []
    for a, b, who in islice(pieces, bisect_right(ends, start), None):
        if a >= end:
            break
        out.append((max(a, start), min(b, end), who))
    return out


def intersect(pieces, windows):
    out = []
    for a, b, who in pieces:
        for wa, wb in windows[max(0, bisect_left(windows, (a,)) - 1):]:
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
    if not overrides:
        return base_who
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

    # The two rules every answer goes through, for an instant or for an interval alike.

    def _layer_answer(self, layer: Layer, base, instant):
        """A layer's answer at `instant` from its own rules' answer `base`: its overrides on top."""
        return _apply(base, instant, self._layer_overrides.get(layer.key))

    def _final(self, instant, answers: Iterable):
        """The schedule's answer from the layers' answers in order: the first layer with
        someone on call, then the schedule-wide overrides on top."""
        return _apply(next((w for w in answers if w is not None), None), instant, self._final_overrides)

    def _edges(self, layer_pieces, start, end):
        cuts = {start, end}
        for pieces in layer_pieces:
            for a, b, _ in pieces:
                cuts.update((a, b))
        cuts.update(c for o in self.overrides for c in (o.start, o.end) if start < c < end)
        return sorted(c for c in cuts if start <= c <= end)

    def _timeline(self, start, end):
        """[(a, b, final, per-layer answers)] between consecutive change points of [start, end)."""
        layer_pieces = [layer.shifts(start, end) for layer in self.layers]
        edges = self._edges(layer_pieces, start, end)
        idx = [0] * len(layer_pieces)
        out = []
        for a, b in zip(edges, edges[1:], strict=False):
            bases = []
            for n, pieces in enumerate(layer_pieces):
                while idx[n] < len(pieces) and pieces[idx[n]][1] <= a:
                    idx[n] += 1
                bases.append(pieces[idx[n]][2] if idx[n] < len(pieces) and pieces[idx[n]][0] <= a else None)
            answers = [self._layer_answer(layer, base, a) for layer, base in zip(self.layers, bases, strict=True)]
            out.append((a, b, self._final(a, answers), answers))
        return out

    def who_at(self, instant: datetime):
        """The answer at `instant` from the same intervals and rules as `shifts` (lazily: the
        layers after the first with someone on call are not read)."""
        return self._final(instant, (self._layer_answer(layer, layer.piece_at(instant), instant) for layer in self.layers))

    def layer_who_at(self, layer: Layer, instant: datetime):
        return self._layer_answer(layer, layer.piece_at(instant), instant)

    def layer_shifts(self, layer: Layer, start: datetime, end: datetime):
        n = next(i for i, lay in enumerate(self.layers) if lay is layer)
        return merge([(a, b, answers[n]) for a, b, _, answers in self._timeline(start, end) if answers[n] is not None])

    def shifts(self, start: datetime, end: datetime):
        """The final result: [(a, b, who)] covering only the on-call time; gaps are absent."""
        return merge([(a, b, who) for a, b, who, _ in self._timeline(start, end) if who is not None])

    def gaps(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        return gaps_of(self.shifts(start, end), start, end)


def gaps_of(pieces, start, end):
    out, at_ = [], start
    for a, b, _ in pieces:
        if a > at_:
            out.append((at_, a))
        at_ = max(at_, b)
    if at_ < end:
        out.append((at_, end))
    return out


def next_change(schedule: Schedule, instant: datetime, horizon: timedelta = timedelta(days=14)):
    """(when, who) of the next change of the final answer after `instant` (who None: a gap
    begins), or None when nothing changes within the horizon."""
    pieces = schedule.shifts(instant, later(instant, horizon))
    if not pieces:
        return None
    if pieces[0][0] > instant:  # nobody now
        return pieces[0][0], pieces[0][2]
    end = pieces[0][1]
    if len(pieces) > 1 and pieces[1][0] == end:
        return end, pieces[1][2]
    if end < later(instant, horizon):
        return end, None
    return None
