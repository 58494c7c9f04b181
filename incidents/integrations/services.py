"""Every state change of alert ingestion, one function per verb.

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
from datetime import datetime, timedelta

from celery import current_app
from django.db import DataError, transaction
from django.db.models import F, Q
from django.utils import timezone

from incidents import archive
from incidents import services as core
from incidents.audit import audit_record
from incidents.exceptions import InvalidInput, InvalidTransition
from incidents.model_update import model_update
from incidents.models import (
    DetectionSource,
    Incident,
    IncidentStatus,
    Maintenance,
    MaintenanceStatus,
    Severity,
)

from .models import (
    WEBHOOK_FIELDS,
    Alert,
    AlertGroup,
    AlertStatus,
    Heartbeat,
    HeartbeatStatus,
    Integration,
    IntegrationKind,
    IntegrationMaintenance,
    Runbook,
    hash_key,
)
from .parsers.base import ACKNOWLEDGE, FIRING, RESOLVED, AlertIn, Refusal, bounded
from .selectors import forget_integrations

logger = logging.getLogger(__name__)

# Alertmanager's and PagerDuty's own severity words, mapped onto the seeded P0-P3 scheme.
DEFAULT_SEVERITY_RULES = [
    {"match": {"severity": ["critical", "page"]}, "severity": "P1"},
    {"match": {"severity": ["error", "high"]}, "severity": "P2"},
    {"match": {"severity": ["warning", "warn", "info", "low"]}, "severity": "P3"},
]
HEARTBEAT_FINGERPRINT = "heartbeat"
TEST_ALERT = "Test alert"
HEARTBEAT_CHECK_TASK = "incidents.integrations.tasks.heartbeat_check_task"
# ETA tasks for heartbeats due further out than this are left to the sweep (see DESIGN.md).
HEARTBEAT_ETA_MAX = timedelta(minutes=5)


# --- integrations ---------------------------------------------------------------------------


def _validate_rules(rules) -> None:
    if not isinstance(rules, list):
        raise InvalidInput("Severity rules must be a list.", field="severity_rules")
    keys = set(Severity.objects.values_list("key", flat=True))
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict) or not isinstance(rule.get("match"), dict) or not rule["match"]:
            raise InvalidInput(f"Rule {i + 1} needs a non-empty \"match\" object.", field="severity_rules")
        if rule.get("severity") not in keys:
            raise InvalidInput(f"Rule {i + 1} names an unknown severity {rule.get('severity')!r}.", field="severity_rules")
        for name, value in rule["match"].items():
            values = value if isinstance(value, list) else [value]
            if not all(isinstance(v, (str, int, float, bool)) for v in values):
                raise InvalidInput(f"Rule {i + 1}: match {name!r} must be a value or a list of values.", field="severity_rules")


def _validate_config(values: dict) -> None:
    if "severity_rules" in values:
        _validate_rules(values["severity_rules"])
    group_by = values.get("group_by")
    if group_by is not None and (not isinstance(group_by, list) or not all(isinstance(g, str) and g for g in group_by)):
        raise InvalidInput("Grouping must be a list of field names.", field="group_by")
    mapping = values.get("field_mapping")
    if mapping is not None:
        if not isinstance(mapping, dict) or not all(isinstance(v, str) and v for v in mapping.values()):
            raise InvalidInput("The field mapping must map field names to dotted paths.", field="field_mapping")
        unknown = set(mapping) - set(WEBHOOK_FIELDS)
        if unknown:
            raise InvalidInput(f"Unknown mapped field(s): {', '.join(sorted(unknown))}.", field="field_mapping")
    resolved = values.get("resolved_values")
    if resolved is not None and (not isinstance(resolved, list) or not all(isinstance(v, str) for v in resolved)):
        raise InvalidInput("Resolved values must be a list of strings.", field="resolved_values")
    for name in ("flap_window", "repeat_window"):
        if name in values and values[name] is not None and values[name] < timedelta(0):
            raise InvalidInput("Must not be negative.", field=name)


HEARTBEAT_FIELDS = ("heartbeat_interval", "heartbeat_grace")


@transaction.atomic
def integration_create(*, name: str, service, kind: str, by=None, default_severity: Severity | None = None, **config) -> tuple[Integration, str]:
    """Create an integration; returns it and its key, which is shown this once."""
    if kind not in IntegrationKind.values:
        raise InvalidInput(f"Unknown kind {kind!r}.", field="kind")
    if not (name or "").strip():
        raise InvalidInput("A name is required.", field="name")
    hb = {k: config.pop(k) for k in HEARTBEAT_FIELDS if k in config}
    config.setdefault("severity_rules", DEFAULT_SEVERITY_RULES if kind in (IntegrationKind.ALERTMANAGER, IntegrationKind.PAGERDUTY) else [])
    if "repeat_severity" not in config:
        config["repeat_severity"] = Severity.objects.filter(key="P1").first()
    _validate_config(config)
    default_severity = default_severity or Severity.objects.filter(is_active=True).order_by("-rank").first()
    if default_severity is None:
        raise InvalidInput("Create a severity first.", field="default_severity")
    key = Integration.generate_key()
    integration = Integration.objects.create(
        name=name.strip(), service=service, kind=kind, default_severity=default_severity,
        key_prefix=key[:8], key_hash=hash_key(key), created_by=by if by is not None and by.is_authenticated else None,
        **config,
    )
    if kind == IntegrationKind.HEARTBEAT:
        Heartbeat.objects.create(
            integration=integration,
            interval=hb.get("heartbeat_interval") or timedelta(minutes=5),
            grace=hb.get("heartbeat_grace") if hb.get("heartbeat_grace") is not None else timedelta(minutes=1),
        )
    audit_record(by=by, obj=integration, action="added", message=f"{integration.get_kind_display()} for {service}")
    return integration, key


EDITABLE = (
    "name", "service", "default_severity", "severity_rules", "group_by", "field_mapping", "resolved_values",
    "auto_resolve", "flap_window", "repeat_threshold", "repeat_window", "repeat_severity", "rate_limit_per_minute",
)


@transaction.atomic
def integration_update(*, integration: Integration, by=None, **changes) -> Integration:
    """Change the configuration (`EDITABLE` and the heartbeat's timing). The key, its revocation
    and the kind are not configuration: rotate, revoke or archive instead."""
    hb = {k: changes.pop(k) for k in HEARTBEAT_FIELDS if k in changes}
    _validate_config(changes)
    if "name" in changes:
        if not (changes["name"] or "").strip():
            raise InvalidInput("A name is required.", field="name")
        changes["name"] = changes["name"].strip()
    changed = model_update(instance=integration, fields=EDITABLE, data=changes)
    if changed:
        _forget()
    if hb and integration.kind == IntegrationKind.HEARTBEAT:
        heartbeat = Heartbeat.objects.select_for_update().get(integration=integration)
        if hb.get("heartbeat_interval"):
            heartbeat.interval = hb["heartbeat_interval"]
        if hb.get("heartbeat_grace") is not None:
            heartbeat.grace = hb["heartbeat_grace"]
        if heartbeat.last_ping_at and heartbeat.status == HeartbeatStatus.UP:
            heartbeat.due_at = heartbeat.last_ping_at + heartbeat.interval + heartbeat.grace
        heartbeat.save()
    if changed or hb:
        audit_record(by=by, obj=integration, action="changed", message=f"Changed {', '.join([*(changed.labels[f] for f in changed.fields), *sorted(hb)])}.")
    return integration


def _forget() -> None:
    """Drop this process's cached integrations now and again after commit (another thread may
    have cached the old row in between)."""
    forget_integrations()
    transaction.on_commit(forget_integrations)


@transaction.atomic
def integration_rotate_key(*, integration: Integration, by=None) -> str:
    """A new key; the old one stops working at once. Returns the new key (shown once). A revoked
    integration is revoked for good (no entry point un-revokes it): make a new one instead."""
    if Integration.objects.filter(pk=integration.pk, revoked_at__isnull=False).exists():
        raise InvalidTransition("This integration is revoked for good: create a new one to receive alerts again.")
    key = Integration.generate_key()
    Integration.objects.filter(pk=integration.pk).update(key_prefix=key[:8], key_hash=hash_key(key), key_rotated_at=timezone.now())
    integration.refresh_from_db()
    _forget()
    audit_record(by=by, obj=integration, action="changed", message="key rotated; the old key stopped working")
    return key


@transaction.atomic
def integration_revoke(*, integration: Integration, by=None) -> None:
    if integration.revoked_at:
        raise InvalidTransition("The integration is already revoked.")
    Integration.objects.filter(pk=integration.pk).update(revoked_at=timezone.now())
    integration.refresh_from_db()
    _forget()
    audit_record(by=by, obj=integration, action="changed", message="revoked")


@transaction.atomic
def integration_archive(*, integration: Integration, by=None) -> Integration:
    """Revoke (the key stops at once) and take it off the lists; its alerts stay on their incidents."""
    if integration.revoked_at is None:
        integration_revoke(integration=integration, by=by)
    return archive.archive(integration, by=by)


def integration_restore(*, integration: Integration, by=None) -> Integration:
    """Back on the lists, for its history; still revoked (a new integration receives alerts)."""
    return archive.restore(integration, by=by)


def integration_delete(*, integration: Integration, by=None) -> None:
    """Only an integration that never received an alert (nothing refers to it); archive the rest."""
    archive.delete_unreferenced(integration, by=by, what=f"The integration “{integration.name}”", owned=("integrations.heartbeat",),
                                archive_hint=f"POST /api/v1/integrations/{integration.public_id}/archive/")
    _forget()


def _window(window: IntegrationMaintenance) -> str:
    return (f"maintenance window {window.starts_at:%Y-%m-%d %H:%M} – {window.ends_at:%Y-%m-%d %H:%M} UTC"
            + (f": {window.reason}" if window.reason else ""))


@transaction.atomic
def integration_maintenance_create(*, integration: Integration, starts_at: datetime, ends_at: datetime, reason: str = "", by=None) -> IntegrationMaintenance:
    if ends_at <= starts_at:
        raise InvalidInput("The window must end after it starts.", field="ends_at")
    window = IntegrationMaintenance.objects.create(
        integration=integration, starts_at=starts_at, ends_at=ends_at, reason=reason,
        created_by=by if by is not None and by.is_authenticated else None,
    )
    audit_record(by=by, obj=integration, action="changed", message=_window(window))
    return window


@transaction.atomic
def integration_maintenance_update(*, window: IntegrationMaintenance, by=None, **changes) -> IntegrationMaintenance:
    if changes.get("ends_at", window.ends_at) <= changes.get("starts_at", window.starts_at):
        raise InvalidInput("The window must end after it starts.", field="ends_at")
    if model_update(instance=window, fields=("starts_at", "ends_at", "reason"), data=changes):
        audit_record(by=by, obj=window.integration, action="changed", message=f"{_window(window)} (changed)")
    return window


@transaction.atomic
def integration_maintenance_delete(*, window: IntegrationMaintenance, by=None) -> None:
    audit_record(by=by, obj=window.integration, action="changed", message=f"{_window(window)} removed")
    window.delete()


# --- ingestion ------------------------------------------------------------------------------


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
    maintenance = (
        Maintenance.objects.filter(services=integration.service_id, suppress_alerts=True)
        .exclude(status=MaintenanceStatus.COMPLETED)
        .filter(Q(status__in=[MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING]) | Q(scheduled_for__lte=now, scheduled_until__gt=now))
        .first()
    )
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
        incident = _incident_for(ctx, group, alert, severity, result)
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
    incident = _incident_for(ctx, group, alert, severity, result)
    Alert.objects.filter(pk=alert.pk).update(incident=incident)
    alert.incident = incident
    core.timeline_record(
        incident=incident, kind="alert.firing", actor_label=ctx.label, occurred_at=now,
        message=f"Alert firing: {alert.title[:300]}",
        data={"integration": integration.pk, "alert": str(alert.public_id), "fingerprint": alert.fingerprint, "severity": severity.key},
    )
    _count_occurrence(ctx, group, incident.pk, alert)
    return alert


def _incident_for(ctx: _Context, group: AlertGroup, alert: Alert, severity: Severity, result: IngestResult) -> Incident:
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


# --- heartbeats -----------------------------------------------------------------------------


def _heartbeat_alert(integration: Integration, action: str, heartbeat: Heartbeat) -> AlertIn:
    return AlertIn(
        action=action, fingerprint=HEARTBEAT_FINGERPRINT, group_value=HEARTBEAT_FINGERPRINT,
        title=f"Heartbeat missed: {integration.name}",
        description=f"No ping within {heartbeat.interval} (+ {heartbeat.grace} grace). Last ping: "
                    f"{heartbeat.last_ping_at:%Y-%m-%d %H:%M:%S %Z}." if heartbeat.last_ping_at else "No ping yet.",
        labels={"alertname": "HeartbeatMissed", "integration": integration.name},
        payload={"heartbeat": integration.name, "last_ping_at": heartbeat.last_ping_at.isoformat() if heartbeat.last_ping_at else None},
        fields={"alertname": "HeartbeatMissed", "severity": ""},
    ) if action == FIRING else AlertIn(
        action=action, fingerprint=HEARTBEAT_FINGERPRINT, group_value=HEARTBEAT_FINGERPRINT,
        payload={"heartbeat": integration.name, "ping": True},
    )


def heartbeat_ping(*, integration: Integration, now: datetime | None = None) -> Heartbeat:
    """A ping: push the due time forward; if the monitor was down, resolve its alert."""
    now = now or timezone.now()
    with transaction.atomic():
        heartbeat = Heartbeat.objects.select_for_update().get(integration=integration)
        was_down = heartbeat.status == HeartbeatStatus.DOWN
        heartbeat.last_ping_at, heartbeat.status = now, HeartbeatStatus.UP
        heartbeat.due_at = now + heartbeat.interval + heartbeat.grace
        heartbeat.save(update_fields=["last_ping_at", "status", "due_at"])
        if was_down:
            alerts_ingest(integration=integration, alerts=[_heartbeat_alert(integration, RESOLVED, heartbeat)], now=now)
        due = heartbeat.due_at
        if due - now <= HEARTBEAT_ETA_MAX:
            transaction.on_commit(lambda: _enqueue(heartbeat.pk, due))
    return heartbeat


def _enqueue(heartbeat_id: int, due: datetime) -> None:
    try:
        # By name: the tasks module calls these services, so it is not imported here.
        current_app.send_task(HEARTBEAT_CHECK_TASK, kwargs={"heartbeat_id": heartbeat_id}, eta=due)
    except Exception as exc:  # broker down: the sweep finds the due row
        logger.warning("could not schedule heartbeat check %s (%s); the sweep will do it", heartbeat_id, exc)


def heartbeat_check(*, heartbeat_id: int, now: datetime | None = None) -> bool:
    """Mark a due heartbeat down and open its alert. Compare-and-set on (status, due_at): a
    second call, or one after a ping moved the due time, does nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Heartbeat.objects.filter(pk=heartbeat_id, status=HeartbeatStatus.UP, due_at__lte=now).update(status=HeartbeatStatus.DOWN)
        if not claimed:
            return False
        heartbeat = Heartbeat.objects.select_related("integration__service", "integration__default_severity").get(pk=heartbeat_id)
        integration = heartbeat.integration
        if integration.revoked_at:
            return True
        alerts_ingest(integration=integration, alerts=[_heartbeat_alert(integration, FIRING, heartbeat)], now=now)
    return True


def heartbeat_sweep(*, now: datetime | None = None, batch: int = 200) -> int:
    """The safety net: claim due heartbeats (SKIP LOCKED) and check each."""
    now = now or timezone.now()
    done = 0
    with transaction.atomic():
        due = list(
            Heartbeat.objects.select_for_update(skip_locked=True)
            .filter(status=HeartbeatStatus.UP, due_at__lte=now)
            .order_by("due_at")
            .values_list("pk", flat=True)[:batch]
        )
        for heartbeat_id in due:
            done += heartbeat_check(heartbeat_id=heartbeat_id, now=now)
    return done


# --- runbooks -------------------------------------------------------------------------------


RUNBOOK_FIELDS = ("title", "prerequisites", "steps", "rollback", "time_estimate", "last_reviewed", "url", "match_labels")


@transaction.atomic
def runbook_save(*, runbook: Runbook | None = None, identifier: str | None = None, services=None, by=None, **values) -> Runbook:
    unknown = set(values) - set(RUNBOOK_FIELDS)
    if unknown:
        raise InvalidInput(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    labels = values.get("match_labels")
    if labels is not None and (not isinstance(labels, dict) or not all(isinstance(v, (str, int, float)) for v in labels.values())):
        raise InvalidInput("Match labels must be an object of label values.", field="match_labels")
    action = "changed" if runbook is not None else "added"
    runbook = runbook or Runbook()
    if identifier is not None:
        runbook.identifier = identifier.strip().upper()
    for name, value in values.items():
        setattr(runbook, name, value)
    runbook.full_clean(exclude=["services"])
    runbook.save()
    if services is not None:
        runbook.services.set(services)
    audit_record(by=by, obj=runbook, action=action, message=", ".join(sorted(values)))
    return runbook
