"""Services (what incidents are about): created, changed, archived; deleted only while nothing
refers to them. Each verb writes an audit entry."""

from django.db import transaction

from . import archive
from .audit import audit_record
from .models import Service

ARCHIVE_HINT = "POST /api/v1/services/{slug}/archive/"


@transaction.atomic
def service_create(*, by, **fields) -> Service:
    service = Service(**fields)
    service.full_clean()
    service.save()
    audit_record(by=by, obj=service, action="added")
    return service


@transaction.atomic
def service_update(*, service: Service, by, **fields) -> Service:
    changed = [name for name, value in fields.items() if getattr(service, name) != value]
    for name in changed:
        setattr(service, name, fields[name])
    if changed:
        service.full_clean()
        service.save(update_fields=changed)
        audit_record(by=by, obj=service, action="changed", message=f"Changed {', '.join(changed)}.")
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
