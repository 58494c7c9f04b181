"""Property tests of the rotation maths over random schedules and random instants.

Zones with 30- and 45-minute offsets, negative offsets and daylight saving both ways; every
rotation kind, repeats (`dana x4`) and gaps (`off x3`), restrictions over midnight and with
an equal start and end, membership changes, overrides of every scope. For each:
`who_at(t)` is the shift containing `t`, the shifts tile the range without overlaps, the
restriction windows and handoffs land where the documented rule says (checked against an
independent reading of the rule), and each handoff moves to the next slot (nobody skipped).

Two runs: one on Hypothesis's fixed derandomized seed, one on a fresh random seed that is
printed (and attached to the failure): rerun it with `ONCALL_PROPERTY_SEED=<seed>`."""

import os
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from oncall.rotation import DAYS, HOURS, Layer, Membership, Override, Restriction, Schedule

ZONES = [ZoneInfo(z) for z in ("Australia/Lord_Howe", "America/St_Johns", "Asia/Kolkata", "America/New_York",
                               "Europe/Berlin", "Pacific/Chatham")]
PEOPLE = ["a", "b", "c", "d", "e"]
US = timedelta(microseconds=1)


def local(instant, zone):
    return instant.astimezone(zone).replace(tzinfo=None)


def first_showing(wall: datetime, zone: ZoneInfo) -> datetime:
    """The documented rule, read independently of `oncall.rotation.to_utc`: the first instant
    at which the zone's clock shows `wall` or later."""
    candidates = [wall.replace(tzinfo=zone, fold=f).astimezone(UTC) for f in (0, 1)]
    real = [u for u in candidates if local(u, zone) == wall]
    if real:
        return min(real)
    lo, hi = min(candidates), max(candidates)  # a gap: the clock passes `wall` between these
    while hi - lo > US:
        mid = lo + (hi - lo) / 2
        if local(mid, zone) >= wall:
            hi = mid
        else:
            lo = mid
    return hi


def _transitions(zone):
    """Instants of the zone's offset changes in 2026 (hourly scan, then minute steps)."""
    out, t = [], datetime(2026, 1, 1, tzinfo=UTC)
    while t.year == 2026:
        nxt = t + timedelta(hours=1)
        if t.astimezone(zone).utcoffset() != nxt.astimezone(zone).utcoffset():
            m = t
            while m.astimezone(zone).utcoffset() == t.astimezone(zone).utcoffset():
                m += timedelta(minutes=1)
            out.append(m)
        t = nxt
    return out or [datetime(2026, 6, 1, tzinfo=UTC)]


TRANSITIONS = {z.key: _transitions(z) for z in ZONES}

clock = st.one_of(st.sampled_from([time(0), time(1, 30), time(2), time(2, 15), time(2, 30), time(2, 45), time(3), time(3, 45)]),
                  st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45])))


@st.composite
def restrictions(draw):
    days = frozenset(draw(st.sets(st.integers(0, 6), min_size=1, max_size=7)))
    start = draw(clock)
    end = draw(st.one_of(st.just(start), clock))  # equal start and end: 24 h from the start
    return Restriction(days, start, end)


@st.composite
def slot_lists(draw):
    slots = []
    for who, turns in draw(st.lists(st.tuples(st.sampled_from(PEOPLE + [None]), st.integers(1, 4)), min_size=1, max_size=4)):
        slots.extend([who] * turns)
    return tuple(slots)


@st.composite
def scenarios(draw):
    zone = draw(st.sampled_from(ZONES))
    before = st.one_of(st.integers(-36 * 60, 0), st.integers(-3 * 24 * 60, 24 * 60))  # mostly just before a change
    focus = draw(st.sampled_from(TRANSITIONS[zone.key])) + timedelta(minutes=draw(before))
    start = focus.replace(second=0, microsecond=0)
    end = start + timedelta(minutes=draw(st.integers(30, 4 * 24 * 60)))
    layers = []
    for n in range(draw(st.integers(1, 3))):
        unit, length = draw(st.sampled_from([(DAYS, 1), (DAYS, 7), (DAYS, None), (HOURS, None), (HOURS, None)]))
        if length is None:  # short hourly turns are the ones a daylight-saving gap can swallow
            length = draw(st.one_of(st.sampled_from([1, 1, 1, 2, 12]), st.integers(1, 30))) if unit == HOURS else draw(st.integers(2, 10))
        anchor_day = local(start, zone).date() - timedelta(days=draw(st.integers(0, 20)))
        # On the hour (or at :45 for Chatham's 02:45 change), hourly turns meet a gap's edges.
        aligned = st.sampled_from([time(0), time(0, 45)]) if unit == HOURS else clock
        anchor = datetime.combine(anchor_day, draw(st.one_of(aligned, clock)))
        weekdays = frozenset(range(5)) if unit == DAYS and draw(st.booleans()) else None
        memberships = [Membership(None, draw(slot_lists()))]
        for minutes in draw(st.sets(st.integers(-600, 5000), max_size=2)):
            memberships.append(Membership(start + timedelta(minutes=minutes), draw(slot_lists())))
        layer_end = start + timedelta(minutes=draw(st.integers(0, 6000))) if draw(st.integers(0, 5)) == 0 else None
        layers.append({"zone": zone, "anchor": anchor, "unit": unit, "length": length, "weekdays": weekdays, "key": f"L{n}",
                       "memberships": memberships, "end": layer_end, "restrictions": draw(st.lists(restrictions(), max_size=2))})
    overrides = []
    for _ in range(draw(st.integers(0, 3))):
        o_start = start + timedelta(minutes=draw(st.integers(-300, 5000)))
        overrides.append(Override(o_start, o_start + timedelta(minutes=draw(st.integers(15, 3000))), draw(st.sampled_from(PEOPLE + ["x"])),
                                  layer=draw(st.sampled_from([None] + [spec["key"] for spec in layers])),
                                  replaces=draw(st.sampled_from([None] + PEOPLE))))
    instants = [start + (end - start) * draw(st.floats(0, 1, exclude_max=True)) for _ in range(12)]
    return zone, layers, overrides, start, end, instants


def build(layers, overrides):
    return Schedule(layers=[Layer(**spec) for spec in layers], overrides=overrides)


def _in_windows(spec, t):
    """Whether `t` is inside one of the layer's restriction windows, by the documented rule."""
    zone = spec["zone"]
    today = local(t, zone).date()
    for r in spec["restrictions"]:
        for back in (2, 1, 0):
            d = today - timedelta(days=back)
            if d.weekday() in r.weekdays:
                end_day = d if r.start < r.end else d + timedelta(days=1)
                if first_showing(datetime.combine(d, r.start), zone) <= t < first_showing(datetime.combine(end_day, r.end), zone):
                    return True
    return False


def check_tiling(pieces, start, end):
    for a, b, who in pieces:
        assert start <= a < b <= end and who is not None
    for (_a1, b1, w1), (a2, _b2, w2) in zip(pieces, pieces[1:], strict=False):
        assert b1 <= a2, "overlap"
        assert not (b1 == a2 and w1 == w2), "unmerged neighbours"


def containing(pieces, t):
    return next((w for a, b, w in pieces if a <= t < b), None)


def check_turns(spec, start, end):
    """Turns of the unrestricted layer: no empty turn, each starts where the rule puts its
    local handoff time, and each handoff moves to the next slot of its membership."""
    layer = Layer(**{**spec, "restrictions": ()})
    turns = layer.turns(start, end)
    assert turns[0][0] == start and turns[-1][1] == end
    for (a1, b1, h1), (a2, b2, h2) in zip(turns, turns[1:], strict=False):
        assert a1 < b1 == a2 < b2
        assert h2 == h1 + 1, "a handoff skipped someone"
        assert a2 == first_showing(layer.turn_start_local(layer.turn_index(a2)), spec["zone"])
    changes = [m.effective_from for m in spec["memberships"] if m.effective_from]
    stop = spec["end"]
    for (a1, _b1, _), (a2, b2, _) in zip(turns, turns[1:], strict=False):
        if a1 < layer.start_utc or (stop is not None and b2 > stop) or any(a1 < c <= b2 for c in changes):
            continue
        live = [m for m in layer.memberships if (m.effective_from or layer.start_utc) <= a1]
        if live:
            slots, w1, w2 = live[-1].slots, layer.who_at(a1), layer.who_at(a2)
            assert any(slots[i] == w1 and slots[(i + 1) % len(slots)] == w2 for i in range(len(slots))), "not the next slot"


def run_property(scenario):
    zone, layers, overrides, start, end, instants = scenario
    schedule = build(layers, overrides)
    final = schedule.shifts(start, end)
    check_tiling(final, start, end)
    per_layer = {layer.key: schedule.layer_shifts(layer, start, end) for layer in schedule.layers}
    for pieces in per_layer.values():
        check_tiling(pieces, start, end)
    edges = sorted({e for a, b, _ in final for e in (a, b - US, b)} | set(instants))
    for t in [t for t in edges if start <= t < end]:
        assert schedule.who_at(t) == containing(final, t), t
        for layer in schedule.layers:
            assert schedule.layer_who_at(layer, t) == containing(per_layer[layer.key], t), (layer.key, t)
    # A range computed on its own is the same as the part of a longer one (fresh layers).
    middle = instants[0]
    assert build(layers, overrides).shifts(start, middle) + build(layers, overrides).shifts(middle, end) in (
        final, _split_merge(final, middle))
    # Restriction windows where the rule puts them, read independently of the code.
    for spec in layers:
        plain = Layer(**{**spec, "restrictions": ()})
        restricted = Layer(**spec)
        for t in instants:
            expect = plain.who_at(t) if not spec["restrictions"] or _in_windows(spec, t) else None
            assert restricted.who_at(t) == expect, (spec["key"], t)
        check_turns(spec, start, end)


def _split_merge(pieces, at):
    """`pieces` cut at `at` (what two adjacent ranges return)."""
    out = []
    for a, b, w in pieces:
        if a < at < b:
            out += [(a, at, w), (at, b, w)]
        else:
            out.append((a, b, w))
    return out


FIXED = settings(max_examples=400, deadline=None, derandomize=True, database=None, print_blob=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FIXED
@given(scenarios())
def test_rotation_properties_on_the_fixed_seed(scenario):
    run_property(scenario)


RANDOM_SEED = int(os.environ.get("ONCALL_PROPERTY_SEED") or random.SystemRandom().randrange(2**32))


@seed(RANDOM_SEED)
@settings(FIXED, derandomize=False, max_examples=300)
@given(scenarios())
def _random_run(scenario):
    run_property(scenario)


def test_rotation_properties_on_a_random_seed():
    print(f"rotation property test: random seed {RANDOM_SEED} (rerun with ONCALL_PROPERTY_SEED={RANDOM_SEED})")
    try:
        _random_run()
    except BaseException as exc:
        exc.add_note(f"Random seed {RANDOM_SEED}: rerun with ONCALL_PROPERTY_SEED={RANDOM_SEED}.")
        raise


def test_the_oracle_reads_the_rule_like_the_docs():
    ny = ZoneInfo("America/New_York")
    assert first_showing(datetime(2026, 3, 8, 2, 30), ny) == datetime(2026, 3, 8, 7, tzinfo=UTC)  # 03:00 EDT
    assert first_showing(datetime(2026, 11, 1, 1, 30), ny) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    assert len(TRANSITIONS["Europe/Berlin"]) == 2 and TRANSITIONS["Asia/Kolkata"] == [datetime(2026, 6, 1, tzinfo=UTC)]
    assert date(2026, 10, 4) in {t.astimezone(ZoneInfo("Australia/Lord_Howe")).date() for t in TRANSITIONS["Australia/Lord_Howe"]}
