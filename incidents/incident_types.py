"""Incident types (configuration): created and changed with their playbook lines, deleted only
while no incident is of the type. Each verb writes an audit entry."""

from django.core.exceptions import ValidationError
from django.db import transaction

from .audit import audit_record
from .exceptions import InUse
from .model_update import invalid_input, model_update
from .models import IncidentType, IncidentTypeChecklistItem

FIELDS = ("key", "name", "description", "default_severity", "public", "postmortem_required", "is_drill",
          "restricted", "required_roles", "position", "is_active")


def _set_checklist(incident_type: IncidentType, items) -> None:
    """Replace the type's playbook lines (dicts of text, owner_role, position)."""
    rows = [IncidentTypeChecklistItem(incident_type=incident_type, **item) for item in items]
    for row in rows:
        try:
            row.full_clean(exclude=["incident_type"])
        except ValidationError as exc:
            raise invalid_input(exc) from exc
    incident_type.checklist_items.all().delete()
    IncidentTypeChecklistItem.objects.bulk_create(rows)


@transaction.atomic
def incident_type_create(*, by, checklist_items=(), access_groups=(), **fields) -> IncidentType:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise invalid_input(ValidationError({sorted(unknown)[0]: "This field cannot be set."}))
    incident_type = IncidentType(**fields)
    if (incident_type.is_drill or incident_type.restricted) and "public" not in fields:
        incident_type.public = False  # a drill or a restricted type is never public: not a thing to spell out
    try:
        incident_type.full_clean()
    except ValidationError as exc:
        raise invalid_input(exc) from exc
    incident_type.save()
    _set_checklist(incident_type, checklist_items)
    incident_type.access_groups.set(access_groups)
    audit_record(by=by, obj=incident_type, action="added")
    return incident_type


@transaction.atomic
def incident_type_update(*, incident_type: IncidentType, by, checklist_items=None, access_groups=None, **fields) -> IncidentType:
    """Change the fields given; `checklist_items`, when given, replace the playbook lines.
    Incidents already declared keep their checklist (it was copied) and their drill flag."""
    changes = model_update(instance=incident_type, fields=FIELDS, data=fields)
    described = changes.describe()
    if checklist_items is not None:
        _set_checklist(incident_type, checklist_items)
        described = (described[:-1] + ", checklist." if described else "Changed checklist.")
    if access_groups is not None and set(access_groups) != set(incident_type.access_groups.all()):
        incident_type.access_groups.set(access_groups)
        names = ", ".join(sorted(g.name for g in access_groups)) or "none"
        described = (described[:-1] + f", groups ({names})." if described else f"Changed groups ({names}).")
    if described:
        audit_record(by=by, obj=incident_type, action="changed", message=described)
    return incident_type


@transaction.atomic
def incident_type_delete(*, incident_type: IncidentType, by) -> None:
    if incident_type.incidents.exists():
        raise InUse(f"Incidents of the type “{incident_type.name}” exist: make it inactive instead.")
    audit_record(by=by, obj=incident_type, action="deleted")
    incident_type.delete()


ITEM_FIELDS = ("text", "owner_role", "position")


@transaction.atomic
def incident_type_checklist_add(*, incident_type: IncidentType, by, text: str, owner_role: str = "",
                                position: int = 0) -> IncidentTypeChecklistItem:
    item = IncidentTypeChecklistItem(incident_type=incident_type, text=(text or "").strip(), owner_role=owner_role, position=position)
    try:
        item.full_clean()
    except ValidationError as exc:
        raise invalid_input(exc) from exc
    item.save()
    audit_record(by=by, obj=incident_type, action="changed", message=f"checklist item added: “{item.text}”")
    return item


@transaction.atomic
def incident_type_checklist_update(*, item: IncidentTypeChecklistItem, by, **fields) -> IncidentTypeChecklistItem:
    changes = model_update(instance=item, fields=ITEM_FIELDS, data=fields)
    if changes:
        audit_record(by=by, obj=item.incident_type, action="changed",
                     message=f"checklist item “{item.text}”: {changes.describe('changed ')}")
    return item


@transaction.atomic
def incident_type_checklist_delete(*, item: IncidentTypeChecklistItem, by) -> None:
    audit_record(by=by, obj=item.incident_type, action="changed", message=f"checklist item removed: “{item.text}”")
    item.delete()
