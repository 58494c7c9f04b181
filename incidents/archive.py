"""Archive, don't delete: a row anything else refers to (past incidents, alerts, uptime history,
escalation levels...) is archived (hidden from pickers and public pages, still shown where
history names it); only an unreferenced one is really deleted, and that is audited.

`references(obj)` looks at every reverse relation Django knows for the model, so it also sees
the apps built on top of the core (a status component, an escalation policy link) without the
core importing them."""

from django.db import transaction
from django.utils import timezone

from .audit import audit_record
from .exceptions import InUse


def references(obj, *, owned: tuple[str, ...] = ()) -> dict[str, int]:
    """{"incidents": 3, "status component": 1, ...}: what still refers to `obj`, leaving out the
    models in `owned` ("app_label.model": rows that belong to `obj` and go with it)."""
    found = {}
    for rel in obj._meta.related_objects:
        model = rel.related_model
        if model._meta.label_lower in owned:
            continue
        count = model._default_manager.filter(**{rel.field.name: obj}).count()
        if count:
            meta = model._meta
            found[str(meta.verbose_name if count == 1 else meta.verbose_name_plural)] = count
    return found


def refuse_if_referenced(obj, *, what: str, archive_hint: str, owned: tuple[str, ...] = ()) -> None:
    used = references(obj, owned=owned)
    if used:
        names = ", ".join(f"{n} {label}" for label, n in used.items())
        raise InUse(f"{what} is still referred to by {names}. Archive it instead ({archive_hint}): "
                    "it disappears from pickers and public pages and stays on the history that names it.")


@transaction.atomic
def delete_unreferenced(obj, *, by, what: str, archive_hint: str, owned: tuple[str, ...] = ()) -> None:
    """Delete `obj` if nothing refers to it (InUse otherwise), with an audit entry."""
    refuse_if_referenced(obj, what=what, archive_hint=archive_hint, owned=owned)
    audit_record(by=by, obj=obj, action="deleted")
    obj.delete()


@transaction.atomic
def archive(obj, *, by, note: str = ""):
    """Set `archived_at` (once) and record it."""
    if obj.archived_at is None:
        type(obj)._default_manager.filter(pk=obj.pk).update(archived_at=timezone.now())
        obj.refresh_from_db(fields=["archived_at"])
        audit_record(by=by, obj=obj, action="changed", message=f"Archived.{' ' + note if note else ''}")
    return obj


@transaction.atomic
def restore(obj, *, by):
    if obj.archived_at is not None:
        type(obj)._default_manager.filter(pk=obj.pk).update(archived_at=None)
        obj.refresh_from_db(fields=["archived_at"])
        audit_record(by=by, obj=obj, action="changed", message="Restored from the archive.")
    return obj
