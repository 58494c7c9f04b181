"""Incident types (configuration): created and changed with their playbook lines, deleted only
while no incident is of the type. Each verb writes an audit entry."""

from django.db import transaction
from django.db.models import ProtectedError

from .audit import audit_record
from .exceptions import InUse
from .models import IncidentType, IncidentTypeChecklistItem

FIELDS = ("key", "name", "description", "default_severity", "public", "postmortem_required", "is_drill",
          "required_roles", "position", "is_active")


@transaction.atomic
def incident_type_save(*, by, incident_type: IncidentType | None = None, checklist_items=None, **fields) -> IncidentType:
    """Create (no `incident_type`) or change a type; `checklist_items` (dicts of text, owner_role,
    position), when given, replace its playbook lines."""
    created = incident_type is None
    incident_type = incident_type or IncidentType()
    changed = [name for name in FIELDS if name in fields and getattr(incident_type, name, None) != fields[name]]
    for name in changed:
        setattr(incident_type, name, fields[name])
    incident_type.full_clean()
    incident_type.save()
    if checklist_items is not None:
        incident_type.checklist_items.all().delete()
        items = [IncidentTypeChecklistItem(incident_type=incident_type, **item) for item in checklist_items]
        for item in items:
            item.full_clean(exclude=["incident_type"])
        IncidentTypeChecklistItem.objects.bulk_create(items)
        changed.append("checklist")
    if created or changed:
        audit_record(by=by, obj=incident_type, action="added" if created else "changed",
                     message="" if created else f"Changed {', '.join(changed)}.")
    return incident_type


@transaction.atomic
def incident_type_delete(*, incident_type: IncidentType, by) -> None:
    if incident_type.incidents.exists():
        raise InUse(f"Incidents of the type “{incident_type.name}” exist: make it inactive instead.")
    audit_record(by=by, obj=incident_type, action="deleted")
    try:
        incident_type.delete()
    except ProtectedError as exc:
        raise InUse(f"“{incident_type.name}” is still referred to.") from exc
