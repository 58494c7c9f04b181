"""Bounded input for every staff form and every API serializer, from one place.

Forms derive from `PortalForm` / `PortalModelForm`, serializers from `PortalSerializer` /
`PortalModelSerializer`, the API's filter sets from `PortalFilterSet` (the filter backend
`PortalFilterBackend` makes the ones built from `filterset_fields` too), the admin's classes
from `PortalAdmin` and its inlines;
tests/incidents/test_bounded_input.py fails for one that does not.
Whatever fields a class declares or a model gives it, these bases add:

- dates and times within INPUT_MIN_YEAR..INPUT_MAX_YEAR (a year-9999 override would break
  every page that shows it);
- integers within the 64-bit range when the field has no tighter bound (model fields get their
  column's range from Django already), so no number reaches the database as an overflow;
- durations within INPUT_MAX_DURATION_DAYS (a due time = now + duration must stay a date);
- JSON values nested no deeper than API_MAX_JSON_DEPTH, without NUL or lone surrogates.

Text needs nothing here: `incidents.middleware.UntrustedInputMiddleware` and the API's JSON
parser (`incidents.api.parsers`) strip NUL and lone surrogates before any form or serializer
sees the data, and Django's and DRF's CharFields refuse what is left.
"""

from datetime import timedelta

import django_filters
from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers

from . import untrusted
from .models.incident import incident_path, visible_through


def validate_duration(value) -> None:
    if value is None:
        return
    limit = timedelta(days=settings.INPUT_MAX_DURATION_DAYS)
    if not -limit <= value <= limit:
        raise ValidationError(f"Enter a duration of at most {settings.INPUT_MAX_DURATION_DAYS} days.", code="out_of_range")


def validate_json(value) -> None:
    if value is None:
        return
    if untrusted.json_depth(value) > settings.API_MAX_JSON_DEPTH:
        raise ValidationError(untrusted.nesting_message(settings.API_MAX_JSON_DEPTH), code="nested")
    if untrusted.clean_json(value, max_depth=settings.API_MAX_JSON_DEPTH) != value:
        raise ValidationError("Text in this value holds characters that cannot be stored (NUL or lone surrogates).", code="invalid")


def _add(field, validator) -> None:
    if validator not in field.validators:
        field.validators = [*field.validators, validator]


# --- forms ------------------------------------------------------------------------------------


FORM_RULES = (
    ((forms.DateField, forms.DateTimeField, forms.SplitDateTimeField), untrusted.validate_in_calendar),
    ((forms.DurationField,), validate_duration),
    ((forms.IntegerField,), untrusted.validate_int64),
    ((forms.JSONField,), validate_json),
)


def _apply(field, rules) -> None:
    for types, validator in rules:
        if isinstance(field, types):
            _add(field, validator)
            return


def _in_int64(value) -> bool:
    text = str(value).strip()
    digits = text.lstrip("+-")
    if not digits.isdecimal():
        return True  # not a number at all: the field's own validation says so
    return len(digits) <= 19 and untrusted.INT64[0] <= int(text) <= untrusted.INT64[1]


def _integer_key(field) -> bool:
    meta = field.queryset.model._meta
    key = meta.get_field(field.to_field_name) if field.to_field_name else meta.pk
    return isinstance(key, models.IntegerField)


def _guard_model_choice(field) -> None:
    """Ids beyond any integer column are an invalid choice before they reach a lookup (SQLite's
    driver raises OverflowError for them in `pk__in`)."""
    clean = field.clean

    def bounded_clean(value):
        values = value if isinstance(value, (list, tuple)) else [value]
        if not all(_in_int64(v) for v in values if v not in (None, "")):
            raise ValidationError("Select a valid choice.", code="invalid_choice")
        return clean(value)

    field.clean = bounded_clean


def bound_form_fields(fields: dict) -> None:
    for field in fields.values():
        if isinstance(field, forms.ModelChoiceField) and _integer_key(field):  # ModelMultipleChoiceField too
            _guard_model_choice(field)
        else:
            _apply(field, FORM_RULES)


class BoundedFormMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bound_form_fields(self.fields)


class PortalForm(BoundedFormMixin, forms.Form):
    pass


class PortalModelForm(BoundedFormMixin, forms.ModelForm):
    pass


class PortalAdmin(admin.ModelAdmin):
    """The Django admin's forms are bounded like the staff pages' (a year-9999 override typed
    into the admin would break the schedule page just the same). Rows of restricted incidents
    the user may not see are not there (lists, search, change pages: a 404 redirect)."""

    form = PortalModelForm

    def get_queryset(self, request):
        path = incident_path(self.model)
        queryset = super().get_queryset(request)
        return queryset if path is None else visible_through(queryset, request.user, path)


class PortalTabularInline(admin.TabularInline):
    form = PortalModelForm


class PortalStackedInline(admin.StackedInline):
    form = PortalModelForm


class PortalFilterSet(django_filters.FilterSet):
    """Query-string filters are forms too: an out-of-range date or number is a 400."""

    def get_form_class(self):
        form_class = super().get_form_class()
        return type(form_class.__name__, (BoundedFormMixin, form_class), {})


class PortalFilterBackend(DjangoFilterBackend):
    filterset_base = PortalFilterSet


# --- serializers ------------------------------------------------------------------------------


SERIALIZER_RULES = (
    ((serializers.DateField, serializers.DateTimeField), untrusted.validate_in_calendar),
    ((serializers.DurationField,), validate_duration),
    ((serializers.IntegerField,), untrusted.validate_int64),
    ((serializers.JSONField,), validate_json),
)


def _bound_serializer_field(field) -> None:
    if getattr(field, "read_only", False):
        return
    if isinstance(field, (serializers.ListField, serializers.DictField, serializers.ListSerializer)):
        _bound_serializer_field(field.child)
    else:
        _apply(field, SERIALIZER_RULES)


class BoundedSerializerMixin:
    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            _bound_serializer_field(field)
        return fields


class PortalSerializer(BoundedSerializerMixin, serializers.Serializer):
    pass


class PortalModelSerializer(BoundedSerializerMixin, serializers.ModelSerializer):
    pass
