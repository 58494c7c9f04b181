"""Alert ingestion: recording the alerts of a delivery and acting on their incidents.

`alerts_ingest` is the heart: for each parsed alert it locks the alert's group row (created on
first use with INSERT ... ON CONFLICT DO NOTHING), upserts the alert by fingerprint, and opens,
joins, reopens or resolves the group's incident through the core's services, all in the
caller's transaction. The group lock serialises concurrent deliveries of the same alert
(Alertmanager retries, several replicas), so two incidents never open for one group, and the
partial unique constraint on open alerts backs it up.

Incidents opened here are declared with detection_source="alert" and
`data={"integration": <id>, ...}`: whoever reacts to `declared` events (the on-call engine)
pages for them. Alerts that arrive during a maintenance window are recorded (suppressed) and
open no incident, so they page nobody.
"""

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.db import DataError, transaction
from django.db.models import F
from django.utils import timezone

from incidents import services as core
from incidents.models import (
    DetectionSource,
    Incident,
    IncidentStatus,
    IncidentType,
    Maintenance,
    Severity,
)

from ..models import Alert, AlertGroup, AlertStatus, Integration, IntegrationMaintenance
from ..parsers.base import ACKNOWLEDGE, FIRING, RESOLVED, AlertIn, Refusal, bounded

logger = logging.getLogger(__name__)

TEST_ALERT = "Test alert"


@dataclass
class IngestResult:
    alerts: list[Alert] = field(default_factory=list)  # alerts created or changed
    repeated: int = 0  # re-sent firing alerts that only bumped their count (the fast path)
    dropped: int = 0
    opened: list[Incident] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)  # alerts no column could hold (see UNSTORABLE)

    @property
    def accepted(self) -> int:
        return len(self.alerts) + self.repeated


class _Context:
    """Per-delivery cache (severities), so a delivery costs a constant number of queries."""

    def __init__(self, integration: Integration, now: datetime, suppress_reason: str = ""):
        self.integration = integration
        self.now = now
        self.suppress_reason = suppress_reason
        self._severities = None
        self._suppression = None
        self.label = f"Integration: {integration.name}"

    @property
    def severities(self) -> dict[str, Severity]:
        if self._severities is None:
            self._severities = {s.key: s for s in Severity.objects.all()}
        return self._severities

    def suppression(self) -> str:
        if self.suppress_reason:
            return self.suppress_reason
        if self._suppression is None:
            self._suppression = maintenance_reason(self.integration, self.now)
        return self._suppression


def maintenance_reason(integration: Integration, now: datetime) -> str:
    """Why alerts of this integration page nobody right now ('' when they page)."""
    window = IntegrationMaintenance.objects.filter(integration=integration, starts_at__lte=now, ends_at__gt=now).first()
    if window:
        return f"Integration maintenance window{': ' + window.reason if window.reason else ''}"
    maintenance = Maintenance.objects.active(now).filter(services=integration.service_id, suppress_alerts=True).first()
    if maintenance:
        return f"Maintenance: {maintenance.title}"
    return ""


def _matches(actual, expected) -> bool:
    if actual is None:
        return False
    values = expected if isinstance(expected, list) else [expected]
    return any(str(actual).lower() == str(v).lower() for v in values)


def map_severity(integration: Integration, fields: dict, severities: dict[str, Severity]) -> Severity:
    for rule in integration.severity_rules or []:
        match = rule.get("match") or {}
        if match and all(_matches(fields.get(name), value) for name, value in match.items()):
            severity = severities.get(rule.get("severity"))
            if severity is not None and severity.is_active:
                return severity
    return integration.default_severity


def map_type(integration: Integration, fields: dict) -> IncidentType | None:
    """The incident type of the first rule that matches and names one ({"match": {...}, "type":
    "security"}), or None."""
    for rule in integration.severity_rules or []:
        match = rule.get("match") or {}
        if rule.get("type") and match and all(_matches(fields.get(name), value) for name, value in match.items()):
            return IncidentType.objects.filter(key=rule["type"], is_active=True).first()
    return None


def group_value(integration: Integration, alert: AlertIn) -> str:
    if integration.group_by:
        return "|".join(f"{name}={alert.fields.get(name, '')}" for name in integration.group_by)
    return alert.group_value


def _lock_group(integration: Integration, value: str) -> AlertGroup:
    key = hashlib.sha256(value.encode()).hexdigest()
    group = AlertGroup.objects.select_for_update().filter(integration=integration, key=key).first()
    if group is None:
        # Concurrent first deliveries: one INSERT wins, the others wait for it and do nothing.
        AlertGroup.objects.bulk_create([AlertGroup(integration=integration, key=key, label=value[:500])], ignore_conflicts=True)
        group = AlertGroup.objects.select_for_update().get(integration=integration, key=key)
    return group


# What storing one alert raises when its content can never be stored (a value out of a column's
# or the calendar's range, text the database refuses): that alert is refused, never retried.
# Database outages (OperationalError, InterfaceError) and races (IntegrityError) propagate.
UNSTORABLE = (DataError, ValueError, OverflowError, UnicodeError, RecursionError)


def alerts_ingest(*, integration: Integration, alerts: list[AlertIn], now: datetime | None = None, suppress_reason: str = "") -> IngestResult:
    """Record a delivery's alerts and act on incidents. Runs in one transaction: the caller
    answers 2xx only after it returns, i.e. after commit. Each alert is stored as `bounded`
    makes it; one that still cannot be stored is rolled back alone (a savepoint when the
    delivery holds several) and listed in `refused`, so it never takes the others with it."""
    ctx = _Context(integration, now or timezone.now(), suppress_reason)
    result = IngestResult()
    alerts = [bounded(a) for a in alerts]
    if len(alerts) == 1:
        _ingest_refusable(ctx, alerts[0], result, alone=True)
        return result
    with transaction.atomic():
        for alert_in in alerts:
            _ingest_refusable(ctx, alert_in, result, alone=False)
    return result


def _ingest_refusable(ctx: _Context, a: AlertIn, result: IngestResult, *, alone: bool) -> None:
    before = (len(result.alerts), result.repeated, result.dropped, len(result.opened))
    try:
        if alone and _repeat_fast(ctx, a):  # one statement: atomic on its own
            result.repeated += 1
            return
        with transaction.atomic():  # alone: the transaction; in a delivery: this alert's savepoint
            if not alone and _repeat_fast(ctx, a):
                result.repeated += 1
            else:
                _ingest_one(ctx, a, result)
    except UNSTORABLE as exc:
        logger.exception("alert %s of a delivery to integration %s cannot be stored", a.index, ctx.integration.pk)
        del result.alerts[before[0]:], result.opened[before[3]:]
        result.repeated, result.dropped = before[1], before[2]
        result.refused.append(Refusal(a.index, [f"alerts[{a.index}]: the alert cannot be stored ({type(exc).__name__})."]))


def _repeat_fast(ctx: _Context, a: AlertIn) -> bool:
    """The common case under load: a sender re-sending an alert that is already open and firing
    (Alertmanager repeats every group at each interval). One conditional UPDATE bumps it; it
    takes the alert's row lock, so a concurrent resolve either happens first (then nothing
    matches and the full path runs) or waits. Repeats that count towards escalation on
    repetition take the full path."""
    if a.action != FIRING or a.counts_as_occurrence:
        return False
    values = {"last_seen_at": ctx.now, **_content(a)}
    values.pop("ends_at", None)
    fields = [Alert._meta.get_field(name) for name in values]
    conn = transaction.get_connection()
    assignments = ", ".join(f"{conn.ops.quote_name(f.column)} = %s" for f in fields)
    params = [f.get_db_prep_save(values[f.name], conn) for f in fields]
    table = conn.ops.quote_name(Alert._meta.db_table)
    with conn.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {assignments}, {conn.ops.quote_name('count')} = {conn.ops.quote_name('count')} + 1 "  # noqa: S608 - names from the model
            f"WHERE integration_id = %s AND fingerprint = %s AND status = %s AND incident_id IS NOT NULL",
            [*params, ctx.integration.pk, a.fingerprint, AlertStatus.FIRING],
        )
        return cursor.rowcount == 1


def _ingest_one(ctx: _Context, a: AlertIn, result: IngestResult) -> None:
    integration = ctx.integration
    group = _lock_group(integration, group_value(integration, a))
    alert = (
        Alert.objects.select_for_update()
        .filter(integration=integration, fingerprint=a.fingerprint)
        .exclude(status=AlertStatus.RESOLVED)
        .first()
    )
    if a.action == FIRING:
        if alert is not None:
            _repeat(ctx, group, alert, a, result)
        else:
            alert = _fire(ctx, group, a, result)
        result.alerts.append(alert)
    elif alert is None:
        result.dropped += 1  # acknowledge / resolve of an unknown or resolved alert: accepted, dropped
    elif a.action == ACKNOWLEDGE:
        _acknowledge(ctx, alert, a)
        result.alerts.append(alert)
    elif a.action == RESOLVED:
        _resolve(ctx, alert, a)
        result.alerts.append(alert)


def _content(a: AlertIn) -> dict:
    values = {"payload": a.payload}
    if a.title:
        values.update(title=a.title[:1024], description=a.description[:20_000], labels=a.labels,
                      annotations=a.annotations, links=a.links, source_severity=a.source_severity[:40])
    if a.ends_at:
        values["ends_at"] = a.ends_at
    return values


def _repeat(ctx: _Context, group: AlertGroup, alert: Alert, a: AlertIn, result: IngestResult) -> None:
    """The same firing alert again: bump its count and last-seen time. An alert suppressed by a
    maintenance window that is still firing after the window opens its incident now."""
    fields = {"last_seen_at": ctx.now, "count": F("count") + 1, **_content(a)}
    fields.pop("ends_at", None)  # a firing alert's endsAt means nothing
    Alert.objects.filter(pk=alert.pk).update(**fields)
    if alert.suppressed and alert.incident_id is None and alert.suppressed_reason != TEST_ALERT and not ctx.suppression():
        alert.title = a.title or alert.title
        severity = ctx.severities.get(alert.severity) or ctx.integration.default_severity
        incident = _incident_for(ctx, group, alert, severity, result, map_type(ctx.integration, a.fields))
        Alert.objects.filter(pk=alert.pk).update(incident=incident, suppressed=False)
        alert.incident, alert.suppressed = incident, False
        core.timeline_record(
            incident=incident, kind="alert.firing", actor_label=ctx.label, occurred_at=ctx.now,
            message=f"Alert still firing after maintenance: {alert.title[:300]}",
            data={"integration": ctx.integration.pk, "alert": str(alert.public_id), "fingerprint": alert.fingerprint, "severity": severity.key},
        )
        return
    if a.counts_as_occurrence and alert.incident_id:
        _count_occurrence(ctx, group, alert.incident_id, alert)


def _fire(ctx: _Context, group: AlertGroup, a: AlertIn, result: IngestResult) -> Alert:
    integration, now = ctx.integration, ctx.now
    severity = map_severity(integration, a.fields, ctx.severities)
    suppressed = ctx.suppression()
    alert = Alert.objects.create(
        integration=integration, group=group, fingerprint=a.fingerprint, status=AlertStatus.FIRING,
        severity=severity.key, starts_at=a.starts_at or now, first_seen_at=now, last_seen_at=now,
        suppressed=bool(suppressed), suppressed_reason=suppressed[:200], **{"title": a.title or "Alert", **_content(a)},
    )
    if suppressed:
        return alert
    incident = _incident_for(ctx, group, alert, severity, result, map_type(integration, a.fields))
    Alert.objects.filter(pk=alert.pk).update(incident=incident)
    alert.incident = incident
    core.timeline_record(
        incident=incident, kind="alert.firing", actor_label=ctx.label, occurred_at=now,
        message=f"Alert firing: {alert.title[:300]}",
        data={"integration": integration.pk, "alert": str(alert.public_id), "fingerprint": alert.fingerprint, "severity": severity.key},
    )
    _count_occurrence(ctx, group, incident.pk, alert)
    return alert


def _incident_for(ctx: _Context, group: AlertGroup, alert: Alert, severity: Severity, result: IngestResult,
                  incident_type: IncidentType | None = None) -> Incident:
    """The group's open incident, its recently resolved one reopened (flapping), or a new one."""
    integration, now = ctx.integration, ctx.now
    incident = Incident.objects.select_related("severity").filter(pk=group.incident_id).first() if group.incident_id else None
    if incident is not None and incident.status != IncidentStatus.RESOLVED:
        if severity.rank < incident.severity.rank:
            core.incident_change_severity(incident=incident, severity=severity, actor_label=ctx.label,
                                          reason=f"alert {alert.title[:120]} is {severity.key}")
        return incident
    if incident is not None and incident.resolved_at and now - incident.resolved_at <= integration.flap_window:
        core.incident_reopen(incident=incident, actor_label=ctx.label, reason=f"alert fired again within {integration.flap_window}: {alert.title[:150]}")
        if severity.rank < incident.severity.rank:
            core.incident_change_severity(incident=incident, severity=severity, actor_label=ctx.label, reason="alert fired again")
        return incident
    real_now = timezone.now()  # `now` may be a sweep's notion of now; impact cannot start in the future
    started = min(alert.starts_at or real_now, real_now)
    incident = core.incident_declare(
        title=(alert.title or "Alert")[:200],
        severity=severity,
        incident_type=incident_type,
        summary=alert.description[:10_000],
        services=[integration.service],
        detection_source=DetectionSource.ALERT,
        started_at=started,
        actor_label=ctx.label,
        data={"integration": integration.pk, "integration_kind": integration.kind, "alert": str(alert.public_id),
              "fingerprint": alert.fingerprint, "group": group.pk},
    )
    AlertGroup.objects.filter(pk=group.pk).update(incident=incident, window_started_at=None, window_count=0)
    group.incident_id, group.window_started_at, group.window_count = incident.pk, None, 0
    result.opened.append(incident)
    return incident


def _count_occurrence(ctx: _Context, group: AlertGroup, incident_id: int, alert: Alert) -> None:
    """Escalate on repetition: more than `repeat_threshold` firings within `repeat_window`
    raise the incident to `repeat_severity` (as in "more than 5 in 10 minutes -> P1")."""
    integration, now = ctx.integration, ctx.now
    if not integration.repeat_threshold or integration.repeat_severity_id is None:
        return
    if group.window_started_at is None or now - group.window_started_at > integration.repeat_window:
        group.window_started_at, group.window_count = now, 1
    else:
        group.window_count += 1
    AlertGroup.objects.filter(pk=group.pk).update(window_started_at=group.window_started_at, window_count=group.window_count)
    if group.window_count <= integration.repeat_threshold:
        return
    incident = Incident.objects.select_related("severity").get(pk=incident_id)
    target = integration.repeat_severity
    if incident.status == IncidentStatus.RESOLVED or not target.is_active or incident.severity.rank <= target.rank:
        return
    core.incident_change_severity(
        incident=incident, severity=target, actor_label=ctx.label,
        reason=f"{group.window_count} firings within {integration.repeat_window}",
    )


def _acknowledge(ctx: _Context, alert: Alert, a: AlertIn) -> None:
    if alert.status == AlertStatus.ACKNOWLEDGED:
        Alert.objects.filter(pk=alert.pk).update(last_seen_at=ctx.now)
        return
    Alert.objects.filter(pk=alert.pk).update(status=AlertStatus.ACKNOWLEDGED, acknowledged_at=ctx.now, last_seen_at=ctx.now)
    alert.status = AlertStatus.ACKNOWLEDGED
    if not alert.incident_id:
        return
    incident = Incident.objects.get(pk=alert.incident_id)
    core.timeline_record(incident=incident, kind="alert.acknowledged", actor_label=ctx.label, occurred_at=ctx.now,
                         message=f"Alert acknowledged at the source: {alert.title[:300]}",
                         data={"integration": ctx.integration.pk, "alert": str(alert.public_id)})
    if incident.status != IncidentStatus.RESOLVED and not incident.is_acknowledged:
        core.incident_acknowledge(incident=incident, actor_label=ctx.label, via=ctx.integration.get_kind_display())


def _resolve(ctx: _Context, alert: Alert, a: AlertIn) -> None:
    now = ctx.now
    fields = {"status": AlertStatus.RESOLVED, "resolved_at": now, "last_seen_at": now, **_content(a)}
    fields.setdefault("ends_at", now)
    Alert.objects.filter(pk=alert.pk).update(**fields)
    alert.status = AlertStatus.RESOLVED
    if not alert.incident_id:
        return
    incident = Incident.objects.get(pk=alert.incident_id)
    core.timeline_record(incident=incident, kind="alert.resolved", actor_label=ctx.label, occurred_at=now,
                         message=f"Alert resolved: {alert.title[:300]}",
                         data={"integration": ctx.integration.pk, "alert": str(alert.public_id)})
    if not ctx.integration.auto_resolve or incident.status == IncidentStatus.RESOLVED:
        return
    if Alert.objects.filter(incident=incident).exclude(status=AlertStatus.RESOLVED).exists():
        return
    core.incident_resolve(incident=incident, actor_label=ctx.label, summary="All of its alerts resolved.")


def integration_send_test_alert(*, integration: Integration, by=None, open_incident: bool = False) -> Alert:
    """A synthetic alert through the real path. Unless asked, it is suppressed: recorded, visible,
    paging nobody."""
    who = (by.get_full_name() or by.get_username()) if by is not None else "someone"
    fingerprint = f"test-{uuid.uuid4().hex[:12]}"
    alert_in = AlertIn(
        action=FIRING, fingerprint=fingerprint, group_value=fingerprint,
        title=f"Test alert from {integration.name}", description=f"Sent from the portal by {who}.",
        source_severity="info", labels={"alertname": "PortalTestAlert", "test": "true"},
        payload={"test": True, "sent_by": who}, fields={"test": "true", "alertname": "PortalTestAlert"},
    )
    result = alerts_ingest(integration=integration, alerts=[alert_in], suppress_reason="" if open_incident else TEST_ALERT)
    return result.alerts[0]
