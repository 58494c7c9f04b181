"""Setting up integrations: create, change, rotate or revoke a key, archive and restore, and the
maintenance windows of one integration. Each writes an audit entry."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from incidents import archive
from incidents.audit import audit_record
from incidents.exceptions import InvalidInput, InvalidTransition
from incidents.model_update import model_update
from incidents.models import IncidentType, Severity

from ..models import (
    WEBHOOK_FIELDS,
    Heartbeat,
    HeartbeatStatus,
    Integration,
    IntegrationKind,
    IntegrationMaintenance,
    hash_key,
)
from ..selectors import forget_integrations

# Alertmanager's and PagerDuty's own severity words, from the most severe to the least.
CRITICAL_WORDS = ["critical", "page"]
ERROR_WORDS = ["error", "high"]
WARNING_WORDS = ["warning", "warn", "info", "low"]


def default_severity_rules() -> list[dict]:
    """The words mapped onto whatever scheme is active: "critical" to its top severity (the
    lowest rank: P0, or P1, or SEV1), "error" to the one above its lowest and "warning" to its
    lowest (P2 and P3 of the seeded P0-P3 scheme). No active severity: no rules."""
    keys = list(Severity.objects.filter(is_active=True).order_by("rank").values_list("key", flat=True))
    if not keys:
        return []
    return [
        {"match": {"severity": CRITICAL_WORDS}, "severity": keys[0]},
        {"match": {"severity": ERROR_WORDS}, "severity": keys[-2] if len(keys) > 2 else keys[-1]},
        {"match": {"severity": WARNING_WORDS}, "severity": keys[-1]},
    ]


def _validate_rules(rules) -> None:
    if not isinstance(rules, list):
        raise InvalidInput("Severity rules must be a list.", field="severity_rules")
    keys = set(Severity.objects.values_list("key", flat=True))
    type_keys = set(IncidentType.objects.values_list("key", flat=True))
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict) or not isinstance(rule.get("match"), dict) or not rule["match"]:
            raise InvalidInput(f"Rule {i + 1} needs a non-empty \"match\" object.", field="severity_rules")
        if "type" in rule and rule["type"] not in type_keys:
            raise InvalidInput(f"Rule {i + 1} names an unknown incident type {rule.get('type')!r}.", field="severity_rules")
        if ("severity" in rule or "type" not in rule) and rule.get("severity") not in keys:
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
    if "severity_rules" not in config:
        config["severity_rules"] = default_severity_rules() if kind in (IntegrationKind.ALERTMANAGER, IntegrationKind.PAGERDUTY) else []
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
