from django import forms

from incidents.bounded import PortalForm, bound_form_fields
from incidents.models import Service, Severity
from incidents.rows import RowFormSet, row_formset

from .models import WEBHOOK_FIELDS, IntegrationKind

AND = "and"  # a rule row whose condition continues on the next row


def severity_then_choices():
    return [("", "—"), *((s.key, f"{s.key} {s.label}") for s in Severity.objects.filter(is_active=True).order_by("rank")),
            (AND, "and (next row)")]


def split_values(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


class RuleRowForm(PortalForm):
    """One condition of a severity rule: a label, the values it may have, and the severity it
    maps to (or "and": the rule goes on with the next row's condition)."""

    label = forms.CharField(max_length=100, required=False, widget=forms.TextInput(attrs={"placeholder": "severity", "spellcheck": "false"}))
    values = forms.CharField(max_length=500, required=False, label="Is one of",
                             widget=forms.TextInput(attrs={"placeholder": "e.g. critical, page", "spellcheck": "false"}))
    then = forms.ChoiceField(choices=(), required=False, label="Then")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["then"].choices = severity_then_choices()

    def clean(self):
        data = super().clean()
        label, values, then = (data.get("label") or "").strip(), split_values(data.get("values") or ""), data.get("then")
        if not (label or values or then):
            return data
        if not label:
            self.add_error("label", "Name the label or field to match, e.g. severity.")
        if not values:
            self.add_error("values", "Give at least one value (several: separate them with commas).")
        if not then:
            self.add_error("then", "Choose the severity, or “and (next row)”.")
        data.update(label=label, values=values)
        return data


class RuleRowFormSet(RowFormSet):
    def row_is_blank(self, form) -> bool:
        d = form.cleaned_data
        return not (d.get("label") or d.get("values") or d.get("then"))

    def clean(self):
        super().clean()
        if any(form.errors for form in self.forms):
            return
        rows = [form for form in self.forms if not self.row_is_blank(form)]
        match = {}
        for form in rows:
            d = form.cleaned_data
            if d["label"] in match:
                form.add_error("label", f"This rule already matches “{d['label']}” in the row above.")
            match[d["label"]] = d["values"]
            if d["then"] != AND:
                match = {}
        if rows and rows[-1].cleaned_data["then"] == AND:
            rows[-1].add_error("then", "The last rule needs a severity: there is no next row.")
        if any(form.errors for form in self.forms):
            raise forms.ValidationError("Some rules need fixing: see the rows marked below.")

    def rules(self) -> list[dict]:
        """The rows as the stored JSON: [{"match": {label: value or [values]}, "severity": key}]."""
        out, match = [], {}
        for row in self.rows():
            match[row["label"]] = row["values"][0] if len(row["values"]) == 1 else row["values"]
            if row["then"] != AND:
                out.append({"match": match, "severity": row["then"]})
                match = {}
        return out


def rule_rows(rules) -> list[dict]:
    """The stored rules as rows, one per condition."""
    rows = []
    for rule in rules or []:
        items = list((rule.get("match") or {}).items())
        for n, (label, value) in enumerate(items):
            values = value if isinstance(value, list) else [value]
            rows.append({"label": label, "values": ", ".join(str(v) for v in values),
                         "then": rule.get("severity") if n == len(items) - 1 else AND})
    return rows


class GroupRowForm(PortalForm):
    label = forms.CharField(max_length=100, required=False, widget=forms.TextInput(attrs={"placeholder": "alertname", "spellcheck": "false"}))

    def clean_label(self):
        return (self.cleaned_data.get("label") or "").strip()


class GroupRowFormSet(RowFormSet):
    def row_is_blank(self, form) -> bool:
        return not form.cleaned_data.get("label")

    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            label = (form.cleaned_data or {}).get("label")
            if label and label in seen:
                form.add_error("label", "Already in the list.")
            seen.add(label)
        if any(form.errors for form in self.forms):
            raise forms.ValidationError("Some grouping labels need fixing: see the rows marked below.")

    def labels(self) -> list[str]:
        return [row["label"] for row in self.rows()]


RuleFormSet = row_formset(RuleRowForm, formset=RuleRowFormSet, max_num=50)
GroupFormSet = row_formset(GroupRowForm, formset=GroupRowFormSet, max_num=20)


class FieldMappingForm(PortalForm):
    """Generic webhook: where each alert field is in the payload (a dotted path; empty: the field's
    own name at the top level)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in WEBHOOK_FIELDS:
            self.fields[name] = forms.CharField(
                max_length=200, required=False, label=name.title(),
                widget=forms.TextInput(attrs={"placeholder": name, "spellcheck": "false"}))
        bound_form_fields(self.fields)

    def clean(self):
        data = super().clean()
        for name in WEBHOOK_FIELDS:
            path = (data.get(name) or "").strip()
            if path and (any(c.isspace() for c in path) or path.startswith(".") or path.endswith(".") or ".." in path):
                self.add_error(name, "Write a dotted path such as event.name (no spaces, no empty parts).")
            data[name] = path
        return data

    def mapping(self) -> dict:
        return {name: self.cleaned_data[name] for name in WEBHOOK_FIELDS if self.cleaned_data.get(name)}


class IntegrationForm(PortalForm):
    name = forms.CharField(max_length=120)
    service = forms.ModelChoiceField(queryset=Service.active.all())
    kind = forms.ChoiceField(choices=IntegrationKind.choices)
    default_severity = forms.ModelChoiceField(queryset=Severity.objects.filter(is_active=True), help_text="When no rule matches.")
    auto_resolve = forms.BooleanField(required=False, initial=True, help_text="Resolve the incident when all its alerts resolve.")
    flap_window = forms.DurationField(initial="00:10:00", help_text="HH:MM:SS. Firing again this soon after resolving reopens the incident.")
    repeat_threshold = forms.IntegerField(min_value=0, initial=5, help_text="More than this many firings in the window raises the severity (0: off).")
    repeat_window = forms.DurationField(initial="00:10:00")
    repeat_severity = forms.ModelChoiceField(queryset=Severity.objects.filter(is_active=True), required=False, help_text="Raise to this (e.g. P1).")
    rate_limit_per_minute = forms.IntegerField(min_value=0, initial=6000, help_text="0: no limit.")
    heartbeat_interval = forms.DurationField(required=False, initial="00:05:00", help_text="Heartbeat only: expected ping interval.")
    heartbeat_grace = forms.DurationField(required=False, initial="00:01:00", help_text="Heartbeat only: grace before opening an incident.")

    HEAD = ("name", "service", "kind", "default_severity")

    def head(self):
        """The fields above the rule editors; `tail()` the ones below."""
        return [self[name] for name in self.HEAD if name in self.fields]

    def tail(self):
        return [self[name] for name in self.fields if name not in self.HEAD]

    def __init__(self, *args, editing: bool = False, kind: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["kind"]
            if kind != IntegrationKind.HEARTBEAT:
                del self.fields["heartbeat_interval"], self.fields["heartbeat_grace"]
        if not self.is_bound and not editing:
            self.fields["default_severity"].initial = Severity.objects.filter(key="P2").first()
            self.fields["repeat_severity"].initial = Severity.objects.filter(key="P1").first()


class TestAlertForm(PortalForm):
    open_incident = forms.BooleanField(required=False, label="Open a real incident (pages the on-call)")


class MaintenanceWindowForm(PortalForm):
    starts_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(max_length=200, required=False)
