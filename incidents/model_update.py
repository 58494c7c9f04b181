"""`model_update`: the one way services change an existing row field by field.

    changes = model_update(instance=schedule, fields=EDITABLE, data={"name": "Ops"})
    if changes:
        audit_record(by=by, obj=schedule, action="changed", message=changes.describe())

Only the fields given in `data` are looked at; those whose value differs are set, the row is
validated for them (`full_clean` on the changed fields: field validators, choices, uniqueness,
constraints) and saved with `update_fields`; many-to-many fields are set after the save. A key
outside `fields` is refused, so an entry point cannot write a field its service does not offer
(a revoked key's `revoked_at`, a derived status). Validation errors come back as `InvalidInput`
naming the field, which the API, the admin and the pages all show."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models

from .exceptions import InvalidInput


@dataclass(frozen=True)
class Changes:
    """What `model_update` changed: truthy when anything did."""

    fields: tuple[str, ...]
    labels: dict

    def __bool__(self) -> bool:
        return bool(self.fields)

    def __contains__(self, name: str) -> bool:
        return name in self.fields

    def describe(self, prefix: str = "Changed ") -> str:
        """"Changed name, time zone." for the audit entry (names only: values may be secrets)."""
        return f"{prefix}{', '.join(self.labels[f] for f in self.fields)}." if self.fields else ""


def _value_key(field, value):
    if isinstance(field, models.ManyToManyField):
        return {getattr(v, "pk", v) for v in value}
    if isinstance(field, models.ForeignKey):
        return getattr(value, "pk", value)
    return value


def _current_key(instance, field):
    if isinstance(field, models.ManyToManyField):
        return set(getattr(instance, field.name).values_list("pk", flat=True)) if instance.pk else set()
    if isinstance(field, models.ForeignKey):
        return getattr(instance, field.attname)
    return getattr(instance, field.name)


def invalid_input(exc: ValidationError) -> InvalidInput:
    """A Django ValidationError as the domain's InvalidInput (first field, first message)."""
    if hasattr(exc, "error_dict"):
        name, errors = next(iter(exc.error_dict.items()))
        message = next(iter(ValidationError(errors).messages), "Invalid value.")
        return InvalidInput(message, field=None if name == NON_FIELD_ERRORS else name)
    return InvalidInput(next(iter(exc.messages), "Invalid value."))


def model_update(*, instance: models.Model, fields: Iterable[str], data: dict) -> Changes:
    """Set the fields of `data` (each one of `fields`) that differ, validate, save them; return
    what changed."""
    allowed = set(fields)
    unknown = set(data) - allowed
    if unknown:
        raise InvalidInput(f"Cannot change {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    meta = instance._meta
    changed, m2m = [], {}
    for name, value in data.items():
        field = meta.get_field(name)
        if _value_key(field, value) == _current_key(instance, field):
            continue
        changed.append(name)
        if isinstance(field, models.ManyToManyField):
            m2m[name] = value
        else:
            setattr(instance, name, value)
    if not changed:
        return Changes((), {})
    concrete = [f for f in changed if f not in m2m]
    try:
        instance.full_clean(exclude=[f.name for f in meta.fields if f.name not in concrete])
    except ValidationError as exc:
        raise invalid_input(exc) from exc
    if concrete:
        instance.save(update_fields=concrete)
    for name, value in m2m.items():
        getattr(instance, name).set(value)
    return Changes(tuple(changed), {name: str(meta.get_field(name).verbose_name) for name in changed})
