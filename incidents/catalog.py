"""Severities and services (what incidents are rated and about): created, changed, archived or
deactivated; deleted only while nothing refers to them. Each verb writes an audit entry, whoever
calls it (the API, the admin, the staff pages)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from . import archive
from .audit import audit_record
from .model_update import invalid_input, model_update
from .models import MetricTargets, Service, Severity, SeverityChecklistItem

ARCHIVE_HINT = "POST /api/v1/services/{slug}/archive/"
SERVICE_FIELDS = ("name", "slug", "description", "team", "runbook_url")
SEVERITY_FIELDS = ("key", "label", "description", "rank", "colour", "ack_target", "update_policy", "update_cadence",
                   "mtta_target", "mttr_target", "postmortem_required", "postmortem_due", "war_room_pattern", "war_room_auto",
                   "urgency", "first_notice_within", "postmortem_meeting_within", "is_active")
METRIC_TARGET_FIELDS = ("mttk_target", "mtti_target", "mtbf_target", "false_positive_rate_target")


def _create(model, fields: tuple[str, ...], values: dict):
    obj = model(**{name: values[name] for name in fields if name in values})
    unknown = set(values) - set(fields)
    if unknown:
        raise invalid_input(ValidationError({sorted(unknown)[0]: "This field cannot be set."}))
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise invalid_input(exc) from exc
    obj.save()
    return obj


# --- severities -------------------------------------------------------------------------------


@transaction.atomic
def severity_create(*, by, **fields) -> Severity:
    severity = _create(Severity, SEVERITY_FIELDS, fields)
    audit_record(by=by, obj=severity, action="added", message=f"rank {severity.rank}")
    return severity


@transaction.atomic
def severity_update(*, severity: Severity, by, **fields) -> Severity:
    changes = model_update(instance=severity, fields=SEVERITY_FIELDS, data=fields)
    if changes:
        audit_record(by=by, obj=severity, action="changed", message=changes.describe())
    return severity


@transaction.atomic
def severity_delete(*, severity: Severity, by) -> None:
    """Only a severity nothing refers to (no incident, integration rule, policy level...);
    otherwise deactivate it (`is_active`: no longer offered, past incidents keep it)."""
    archive.delete_unreferenced(severity, by=by, what=f"The severity “{severity}”", owned=("incidents.severitychecklistitem",),
                                archive_hint=f"PATCH /api/v1/severities/{severity.key}/ with is_active false")


@transaction.atomic
def severity_checklist_add(*, severity: Severity, text: str, position: int = 0, by) -> SeverityChecklistItem:
    item = _create(SeverityChecklistItem, ("severity", "text", "position"), {"severity": severity, "text": text.strip(), "position": position})
    audit_record(by=by, obj=severity, action="changed", message=f"checklist item added: “{item.text}”")
    return item


@transaction.atomic
def severity_checklist_update(*, item: SeverityChecklistItem, by, **fields) -> SeverityChecklistItem:
    changes = model_update(instance=item, fields=("text", "position"), data=fields)
    if changes:
        audit_record(by=by, obj=item.severity, action="changed", message=f"checklist item “{item.text}”: {changes.describe('changed ')}")
    return item


@transaction.atomic
def severity_checklist_delete(*, item: SeverityChecklistItem, by) -> None:
    audit_record(by=by, obj=item.severity, action="changed", message=f"checklist item removed: “{item.text}”")
    item.delete()


# --- communication templates ---------------------------------------------------------------

# --- services ---------------------------------------------------------------------------------


@transaction.atomic
def service_create(*, by, **fields) -> Service:
    service = _create(Service, SERVICE_FIELDS, fields)
    audit_record(by=by, obj=service, action="added")
    return service


@transaction.atomic
def service_update(*, service: Service, by, **fields) -> Service:
    changes = model_update(instance=service, fields=SERVICE_FIELDS, data=fields)
    if changes:
        audit_record(by=by, obj=service, action="changed", message=changes.describe())
    return service


def service_archive(*, service: Service, by) -> Service:
    """No longer offered for new incidents, integrations, maintenance or policies; past incidents
    keep naming it. Its status component is archived by the status page's own action."""
    return archive.archive(service, by=by)


def service_restore(*, service: Service, by) -> Service:
    return archive.restore(service, by=by)


def service_delete(*, service: Service, by) -> None:
    """Only a service nothing refers to (no incident, integration, component, policy...)."""
    archive.delete_unreferenced(service, by=by, what=f"The service “{service.name}”",
                                archive_hint=ARCHIVE_HINT.format(slug=service.slug))


# --- metric targets ---------------------------------------------------------------------------


def metric_targets() -> MetricTargets:
    """The one row of targets (made empty if a database lost it: every target then unset)."""
    targets, _created = MetricTargets.objects.get_or_create(pk=MetricTargets.SINGLETON)
    return targets


@transaction.atomic
def metric_targets_update(*, by, **fields) -> MetricTargets:
    unknown = set(fields) - set(METRIC_TARGET_FIELDS)
    if unknown:
        raise invalid_input(ValidationError({sorted(unknown)[0]: "This field cannot be set."}))
    targets = metric_targets()
    changes = model_update(instance=targets, fields=METRIC_TARGET_FIELDS, data=fields)
    if changes:
        audit_record(by=by, obj=targets, action="changed", message=changes.describe())
    return targets
