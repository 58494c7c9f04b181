"""Incident metrics over a date range, computed by the database (aggregates), never by loading
incidents into Python: the page costs about ten queries whatever the history holds.

The rule for the range's edges (documented on the page and in the API schema):

- An incident belongs to the range when it was *declared* inside it: from 00:00 of the first day
  to 24:00 of the last day, in the portal's time zone (TIME_ZONE).
- Its durations count in full, even when it was acknowledged, mitigated or resolved after the
  range ended; an incident declared before the range belongs to the earlier range, even if it was
  resolved inside this one. Every figure is about the same set of incidents.
- A time that has not happened yet (still open, never acknowledged) is left out of that mean.
- Every time is measured from the declaration (`declared_at`), but MTTK (mean time to know),
  which runs from the start of impact (`started_at`) to the declaration (detection).
- Incidents resolved as false positives count in the totals, the detection split and the
  false-positive rate, but not in MTTA / MTTI / MTTM / MTTR, MTBF or repeat incidents.
"""

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, FloatField, Func, Max, Min, Q, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from incidents.catalog import metric_targets
from incidents.models import DetectionSource, Incident, Service, Severity

from .models import ACTION_OPEN_STATUSES, ActionItem, ActionStatus, Postmortem, PostmortemStatus

RULE = (
    "An incident counts in the range it was declared in (00:00 of the first day to 24:00 of the last, "
    "portal time zone); its durations count in full even if it ended after the range. Times are measured "
    "from the declaration; still-open steps and false positives are left out of the means."
)
MEANS = ("mttk", "mtta", "mtti", "mttm", "mttr")
MEAN_LABELS = {"mttk": "MTTK (detected)", "mtta": "MTTA (acknowledged)", "mtti": "MTTI (identified)", "mttm": "MTTM (mitigated)",
               "mttr": "MTTR (resolved)"}


class SecondsBetween(Func):
    """Seconds from the second datetime to the first, as a float, on PostgreSQL and SQLite."""

    output_field = FloatField()
    arg_joiner = " - "
    # date_part() returns a double; EXTRACT() returns numeric on PostgreSQL 14+, markedly slower to sum.
    template = "date_part('epoch', %(expressions)s)"

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="((julianday(%(expressions)s)) * 86400.0)", arg_joiner=") - julianday(", **extra)


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date  # inclusive

    @property
    def start_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min), timezone.get_default_timezone())

    @property
    def end_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min), timezone.get_default_timezone())

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @classmethod
    def last_days(cls, days: int = 90, today: date | None = None) -> "DateRange":
        today = today or timezone.localdate(timezone=timezone.get_default_timezone())
        return cls(today - timedelta(days=days - 1), today)


@dataclass
class SeverityRow:
    key: str
    label: str
    colour: str
    count: int = 0
    false_positives: int = 0
    open: int = 0
    mttk: float | None = None
    mtta: float | None = None
    mtti: float | None = None
    mttm: float | None = None
    mttr: float | None = None
    mtta_target: float | None = None
    mttr_target: float | None = None

    @property
    def mtta_ok(self) -> bool | None:
        return None if self.mtta is None or self.mtta_target is None else self.mtta <= self.mtta_target

    @property
    def mttr_ok(self) -> bool | None:
        return None if self.mttr is None or self.mttr_target is None else self.mttr <= self.mttr_target


@dataclass
class Report:
    range: DateRange
    total: int = 0
    resolved: int = 0
    severities: list[SeverityRow] = field(default_factory=list)
    overall: SeverityRow | None = None
    weeks: list[date] = field(default_factory=list)
    weekly_by_severity: dict[str, list[int]] = field(default_factory=dict)
    weekly_by_service: dict[str, list[int]] = field(default_factory=dict)
    mtbf: list[dict] = field(default_factory=list)
    detection: list[dict] = field(default_factory=list)
    alert_share: float | None = None
    alert_target: float = 0.8
    false_positives: int = 0
    false_positive_rate: float | None = None
    repeats: list[dict] = field(default_factory=list)
    repeat_incidents: int = 0
    action_items: dict = field(default_factory=dict)
    postmortems: dict = field(default_factory=dict)
    targets: dict = field(default_factory=dict)  # seconds (or a ratio) per target name; None: no target
    verdicts: dict = field(default_factory=dict)  # target name -> met (True), missed (False), None
    rule: str = RULE
    restricted_not_shown: int | None = None  # None: the policy does not say


def _seconds(value: timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


STAMPS = {"mtta": "acknowledged_at", "mtti": "identified_at", "mttm": "mitigated_at", "mttr": "resolved_at"}


def _sums() -> dict:
    """Sum and count of each duration (seconds from declaration; MTTK's from the start of impact
    to the declaration); a null stamp counts in neither."""
    out = {"mttk_sum": Sum(SecondsBetween("declared_at", "started_at")), "mttk_n": Count("pk")}
    for m, stamp in STAMPS.items():
        out[f"{m}_sum"] = Sum(SecondsBetween(stamp, "declared_at"))
        out[f"{m}_n"] = Count(stamp)
    return out


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def cohort(rng: DateRange, viewer):
    """The incidents a report covers: declared in the range, drills left out (they have a report
    of their own), restricted incidents only for those who may see them."""
    return Incident.objects.visible_to(viewer).filter(declared_at__gte=rng.start_at, declared_at__lt=rng.end_at, is_drill=False)


def restricted_not_shown(rng: DateRange, viewer) -> int | None:
    """How many restricted incidents of the range `viewer` does not see, where the policy
    (METRICS_SHOW_RESTRICTED_COUNT) allows saying so; None where it does not."""
    if not settings.METRICS_SHOW_RESTRICTED_COUNT:
        return None
    return Incident.objects.hidden_from(viewer).filter(
        declared_at__gte=rng.start_at, declared_at__lt=rng.end_at, is_drill=False).count()


def compute(rng: DateRange, *, viewer, now: datetime | None = None) -> Report:
    """The figures of `rng` as `viewer` may see them (None: unrestricted incidents only)."""
    # Days and weeks are the portal's (TIME_ZONE), whoever looks: the page, the CSV and the API agree.
    with timezone.override(timezone.get_default_timezone()), transaction.atomic():
        if connection.vendor == "postgresql" and settings.METRICS_WORK_MEM:
            # The planner takes a week of `declared_at` to be as distinct as `declared_at` itself
            # (one group per incident), decides the hash table cannot fit and sorts every row
            # instead. The real groups number a few thousand; a larger work_mem for this one
            # read-only transaction lets it hash (2-3x faster over 100,000 incidents).
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.METRICS_WORK_MEM])
        return _compute(rng, viewer=viewer, now=now)


def _compute(rng: DateRange, *, viewer, now: datetime | None = None) -> Report:
    now = now or timezone.now()
    today = timezone.localdate(now)
    report = Report(range=rng, alert_target=settings.METRICS_ALERT_DETECTION_TARGET,
                    restricted_not_shown=restricted_not_shown(rng, viewer), targets=_targets())
    incidents = cohort(rng, viewer).order_by()
    real = Q(false_positive=False)

    weeks, first_week = [], week_start(rng.start)
    while first_week <= rng.end:
        weeks.append(first_week)
        first_week += timedelta(days=7)
    report.weeks = weeks
    index = {w: i for i, w in enumerate(weeks)}

    # 1. One scan of the incidents, grouped by (severity, week, detection source, false positive):
    #    counts, and the sum and count of each duration, from which the means per severity and
    #    overall follow. Grouping by false_positive keeps the aggregates free of FILTER clauses.
    fields = ("count", "fps", "open", "resolved", *(f"{m}_sum" for m in MEANS), *(f"{m}_n" for m in MEANS))
    per_sev: dict[int, dict[str, float]] = {}
    weekly_sev: dict[int, list[int]] = {}
    sources: dict[str, int] = {}
    groups = (
        incidents.annotate(week=TruncWeek("declared_at"))
        .values("severity", "week", "detection_source", "false_positive")
        .annotate(count=Count("pk"), resolved=Count("resolved_at"), **_sums())
    )
    for g in groups:
        acc = per_sev.setdefault(g["severity"], dict.fromkeys(fields, 0))
        acc["count"] += g["count"]
        acc["resolved"] += g["resolved"]
        acc["open"] += g["count"] - g["resolved"]
        if g["false_positive"]:
            acc["fps"] += g["count"]
        else:
            for m in MEANS:
                acc[f"{m}_sum"] += g[f"{m}_sum"] or 0
                acc[f"{m}_n"] += g[f"{m}_n"]
        weekly_sev.setdefault(g["severity"], [0] * len(weeks))[index[_as_date(g["week"])]] += g["count"]
        sources[g["detection_source"]] = sources.get(g["detection_source"], 0) + g["count"]
    total = dict.fromkeys(fields, 0)
    for acc in per_sev.values():
        for f in fields:
            total[f] += acc[f]

    def row(key, label, colour, acc, sev=None) -> SeverityRow:
        means = {m: _round(acc[f"{m}_sum"] / acc[f"{m}_n"]) if acc[f"{m}_n"] else None for m in MEANS}
        return SeverityRow(
            key=key, label=label, colour=colour, count=acc["count"], false_positives=acc["fps"], open=acc["open"], **means,
            mtta_target=_seconds(sev.mtta_target) if sev else None, mttr_target=_seconds(sev.mttr_target) if sev else None,
        )

    empty = dict.fromkeys(fields, 0)
    for sev in Severity.objects.filter(Q(is_active=True) | Q(pk__in=per_sev)).order_by("rank"):
        report.severities.append(row(sev.key, sev.label, sev.colour, per_sev.get(sev.pk, empty), sev))
        report.weekly_by_severity[sev.key] = weekly_sev.get(sev.pk, [0] * len(weeks))
    report.overall = row("all", "All severities", "#475467", total)
    report.total, report.resolved, report.false_positives = total["count"], total["resolved"], total["fps"]
    report.false_positive_rate = total["fps"] / total["resolved"] if total["resolved"] else None
    for value, label in DetectionSource.choices:
        n = sources.get(value, 0)
        report.detection.append({"source": value, "label": label, "count": n, "share": n / report.total if report.total else None})
    report.alert_share = sources.get(DetectionSource.ALERT, 0) / report.total if report.total else None

    # 2. One scan joined to services, grouped by (service, week): incidents per week, and for the
    #    mean time between failures (the mean gap between consecutive declarations of the service,
    #    = (last - first) / (n - 1), false positives left out) the first and last declaration.
    by_service: dict[str, list[int]] = {}
    span: dict[str, list] = {}
    names = dict(Service.objects.values_list("pk", "name"))
    for g in (
        incidents.annotate(week=TruncWeek("declared_at")).values("services", "week", "false_positive")
        .annotate(n=Count("pk"), first=Min("declared_at"), last=Max("declared_at"))
    ):
        name = names.get(g["services"])
        by_service.setdefault(name or "(no service)", [0] * len(weeks))[index[_as_date(g["week"])]] += g["n"]
        if name is None or g["false_positive"]:
            continue
        s = span.setdefault(name, [0, g["first"], g["last"]])
        s[0] += g["n"]
        s[1], s[2] = min(s[1], g["first"]), max(s[2], g["last"])
    report.weekly_by_service = dict(sorted(by_service.items(), key=lambda kv: (-sum(kv[1]), kv[0])))
    for name in sorted(span):
        n, first, last = span[name]
        mtbf = (last - first).total_seconds() / (n - 1) if n > 1 else None
        report.mtbf.append({"service": name, "incidents": n, "mtbf": _round(mtbf)})

    # 6. Repeat incidents: same service and same root-cause tag, two or more times (one query).
    for r in (
        incidents.filter(real).exclude(root_cause_tag="").filter(services__isnull=False)
        .values("services__name", "root_cause_tag").annotate(n=Count("pk")).filter(n__gte=2).order_by("-n", "services__name", "root_cause_tag")
    ):
        report.repeats.append({"service": r["services__name"], "root_cause_tag": r["root_cause_tag"], "incidents": r["n"]})
    report.repeat_incidents = sum(r["incidents"] - 1 for r in report.repeats)

    # 7. Action items of these incidents, as of now (one query).
    open_q = Q(status__in=ACTION_OPEN_STATUSES)
    report.action_items = ActionItem.objects.filter(incident__in=incidents).aggregate(
        total=Count("pk"), done=Count("pk", filter=Q(status=ActionStatus.DONE)), open=Count("pk", filter=open_q),
        overdue=Count("pk", filter=open_q & Q(due_date__lt=today)), wont_do=Count("pk", filter=Q(status=ActionStatus.WONT_DO)),
    )

    # 8. Postmortems of these incidents: published on time, late, overdue, not yet due (one query).
    published = Q(status=PostmortemStatus.PUBLISHED)
    pm = Postmortem.objects.filter(incident__in=incidents).aggregate(
        total=Count("pk"), published=Count("pk", filter=published),
        on_time=Count("pk", filter=published & Q(published_at__lte=F("due_at"))),
        late=Count("pk", filter=published & Q(published_at__gt=F("due_at"))),
        overdue=Count("pk", filter=~published & Q(due_at__lt=now)),
        pending=Count("pk", filter=~published & Q(due_at__gte=now)),
    )
    _judge(report)
    decided = pm["published"] + pm["overdue"]
    pm["on_time_rate"] = pm["on_time"] / decided if decided else None
    report.postmortems = pm
    return report


def _targets() -> dict:
    t = metric_targets()
    return {"mttk": _seconds(t.mttk_target), "mtti": _seconds(t.mtti_target), "mtbf": _seconds(t.mtbf_target),
            "false_positive_rate": t.false_positive_rate_target}


def _met(value, target, *, at_least: bool = False) -> bool | None:
    """True (met), False (missed) or None (no figure or no target)."""
    if value is None or target is None:
        return None
    return value >= target if at_least else value <= target


def _judge(report: Report) -> None:
    """Each figure with a target against it: the overall MTTK and MTTI, each service's MTBF (at
    least the target) and the false-positive rate (at most)."""
    t = report.targets
    report.verdicts = {
        "mttk": _met(report.overall.mttk, t["mttk"]), "mtti": _met(report.overall.mtti, t["mtti"]),
        "false_positive_rate": _met(report.false_positive_rate, t["false_positive_rate"]),
    }
    for r in report.mtbf:
        r["ok"] = _met(r["mtbf"], t["mtbf"], at_least=True)
    judged = [r["ok"] for r in report.mtbf if r["ok"] is not None]
    report.verdicts["mtbf"] = all(judged) if judged else None  # every service measured meets it


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def fmt_seconds(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    seconds = int(round(value))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def as_dict(report: Report) -> dict:
    """The figures as plain data (the API and the CSV)."""

    def sev(row: SeverityRow) -> dict:
        return {
            "severity": row.key, "label": row.label, "incidents": row.count, "false_positives": row.false_positives, "open": row.open,
            **{f"{m}_seconds": getattr(row, m) for m in MEANS},
            "mtta_target_seconds": row.mtta_target, "mttr_target_seconds": row.mttr_target,
            "mtta_within_target": row.mtta_ok, "mttr_within_target": row.mttr_ok,
        }

    return {
        "range": {"since": report.range.start.isoformat(), "until": report.range.end.isoformat(), "rule": report.rule},
        "restricted_not_shown": report.restricted_not_shown,
        "incidents": report.total,
        "resolved": report.resolved,
        "overall": sev(report.overall),
        "by_severity": [sev(r) for r in report.severities],
        "weeks": [w.isoformat() for w in report.weeks],
        "weekly_by_severity": report.weekly_by_severity,
        "weekly_by_service": report.weekly_by_service,
        "mtbf_by_service": [{"service": r["service"], "incidents": r["incidents"], "mtbf_seconds": r["mtbf"],
                             "mtbf_within_target": r.get("ok")} for r in report.mtbf],
        "targets": {
            name: {"target": report.targets.get(name), "met": report.verdicts.get(name, None)}
            for name in ("mttk", "mtti", "mtbf", "false_positive_rate")
        },
        "detection": {"sources": report.detection, "alert_share": report.alert_share, "alert_target": report.alert_target},
        "false_positives": {"count": report.false_positives, "rate": report.false_positive_rate},
        "repeat_incidents": {"count": report.repeat_incidents, "groups": report.repeats},
        "action_items": report.action_items,
        "postmortems": report.postmortems,
    }


def _blank(value):
    return "" if value is None else value


def csv_rows(report: Report) -> list[list]:
    """metric, dimension, value, unit, target: one figure a row."""
    rows: list[list] = [["metric", "dimension", "value", "unit", "target"], ["range", f"{report.range.start} to {report.range.end}", "", "", ""]]
    rows.append(["incidents", "all", report.total, "count", ""])
    for row in [*report.severities, report.overall]:
        rows.append(["incidents", row.key, row.count, "count", ""])
        for m in MEANS:
            target = row.mtta_target if m == "mtta" else row.mttr_target if m == "mttr" else None
            if row is report.overall and m in ("mttk", "mtti"):
                target = report.targets.get(m)
            rows.append([m, row.key, "" if getattr(row, m) is None else getattr(row, m), "seconds", "" if target is None else target])
    for i, week in enumerate(report.weeks):
        for key, values in report.weekly_by_severity.items():
            rows.append(["incidents_per_week", f"{week.isoformat()} severity {key}", values[i], "count", ""])
        for name, values in report.weekly_by_service.items():
            rows.append(["incidents_per_week", f"{week.isoformat()} service {name}", values[i], "count", ""])
    for r in report.mtbf:
        rows.append(["mtbf", r["service"], "" if r["mtbf"] is None else r["mtbf"], "seconds", _blank(report.targets.get("mtbf"))])
    for d in report.detection:
        rows.append(["detection", d["source"], d["count"], "count", ""])
    rows.append(["alert_share", "alert", "" if report.alert_share is None else round(report.alert_share, 4), "ratio", report.alert_target])
    rows.append(["false_positive_rate", "all", "" if report.false_positive_rate is None else round(report.false_positive_rate, 4), "ratio",
                 _blank(report.targets.get("false_positive_rate"))])
    rows.append(["repeat_incidents", "all", report.repeat_incidents, "count", ""])
    for r in report.repeats:
        rows.append(["repeat_incidents", f"{r['service']} / {r['root_cause_tag']}", r["incidents"], "count", ""])
    for key in ("total", "done", "open", "overdue", "wont_do"):
        rows.append(["action_items", key, report.action_items[key], "count", ""])
    for key in ("total", "published", "on_time", "late", "overdue", "pending"):
        rows.append(["postmortems", key, report.postmortems[key], "count", ""])
    rate = report.postmortems["on_time_rate"]
    rows.append(["postmortems_on_time_rate", "all", "" if rate is None else round(rate, 4), "ratio", ""])
    return rows
