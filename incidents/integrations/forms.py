import json

from django import forms
from django.conf import settings

from incidents import untrusted
from incidents.bounded import PortalForm
from incidents.models import Service, Severity

from .models import IntegrationKind


class JSONTextField(forms.CharField):
    """JSON typed into a textarea (rules, grouping, field mapping)."""

    def __init__(self, *, expect: type, **kwargs):
        self.expect = expect
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "mono"}))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, (list, dict)):
            return json.dumps(value, indent=2)
        return value

    def clean(self, value):
        value = super().clean(value)
        if not value or not value.strip():
            return self.expect()
        try:  # typed by a person, so untrusted: bounded nesting, no NaN, no NUL
            parsed = untrusted.clean_json(untrusted.loads(value, max_depth=settings.API_MAX_JSON_DEPTH, strict=True),
                                          max_depth=settings.API_MAX_JSON_DEPTH)
        except untrusted.NestingError as exc:
            raise forms.ValidationError(str(exc)) from None
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from None
        if not isinstance(parsed, self.expect):
            raise forms.ValidationError(f"Expected a JSON {'list' if self.expect is list else 'object'}.")
        return parsed


class IntegrationForm(PortalForm):
    name = forms.CharField(max_length=120)
    service = forms.ModelChoiceField(queryset=Service.active.all())
    kind = forms.ChoiceField(choices=IntegrationKind.choices)
    default_severity = forms.ModelChoiceField(queryset=Severity.objects.filter(is_active=True), help_text="When no rule matches.")
    severity_rules = JSONTextField(expect=list, help_text='First match wins, e.g. [{"match": {"severity": "critical"}, "severity": "P1"}]. Empty for Alertmanager and PagerDuty: the standard mapping.')
    group_by = JSONTextField(expect=list, help_text='Fields that make alerts one incident, e.g. ["alertname", "cluster"]. Empty: the kind\'s default.')
    field_mapping = JSONTextField(expect=dict, help_text='Generic webhook: dotted paths, e.g. {"title": "event.name", "status": "event.state"}.')
    auto_resolve = forms.BooleanField(required=False, initial=True, help_text="Resolve the incident when all its alerts resolve.")
    flap_window = forms.DurationField(initial="00:10:00", help_text="HH:MM:SS. Firing again this soon after resolving reopens the incident.")
    repeat_threshold = forms.IntegerField(min_value=0, initial=5, help_text="More than this many firings in the window raises the severity (0: off).")
    repeat_window = forms.DurationField(initial="00:10:00")
    repeat_severity = forms.ModelChoiceField(queryset=Severity.objects.filter(is_active=True), required=False, help_text="Raise to this (e.g. P1).")
    rate_limit_per_minute = forms.IntegerField(min_value=0, initial=6000, help_text="0: no limit.")
    heartbeat_interval = forms.DurationField(required=False, initial="00:05:00", help_text="Heartbeat only: expected ping interval.")
    heartbeat_grace = forms.DurationField(required=False, initial="00:01:00", help_text="Heartbeat only: grace before opening an incident.")

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["kind"]
        if not self.is_bound and not editing:
            self.fields["default_severity"].initial = Severity.objects.filter(key="P2").first()
            self.fields["repeat_severity"].initial = Severity.objects.filter(key="P1").first()


class TestAlertForm(PortalForm):
    open_incident = forms.BooleanField(required=False, label="Open a real incident (pages the on-call)")


class MaintenanceWindowForm(PortalForm):
    starts_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(max_length=200, required=False)
