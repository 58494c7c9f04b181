from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from incidents.bounded import PortalForm

from . import selectors
from .models import DetectionSource, IncidentStatus, IncidentType, LinkKind, Role, Service, Severity

User = get_user_model()


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        name = user.get_full_name()
        return f"{name} ({user.username})" if name else user.username


def active_users():
    return User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")


class SeverityChoiceField(forms.ModelChoiceField):
    """Severities as radio cards: no default, so the person declaring has to choose."""

    widget = forms.RadioSelect

    def label_from_instance(self, severity):
        return f"{severity.key} {severity.label}"


class DeclareForm(PortalForm):
    title = forms.CharField(max_length=200)
    severity = SeverityChoiceField(
        queryset=Severity.objects.filter(is_active=True).order_by("rank"), empty_label=None, required=False)
    type = forms.ModelChoiceField(
        queryset=IncidentType.objects.filter(is_active=True), required=False, empty_label="— not classified —",
        label="Type", help_text="Its playbook, extra paging and rules (a drill pages for real, marked [DRILL]). "
                                "Without a severity, the type's default is used.")
    services = forms.ModelMultipleChoiceField(
        queryset=Service.active.all(), required=False, widget=forms.CheckboxSelectMultiple,
        help_text="The services affected.",
    )
    detection_source = forms.ChoiceField(choices=DetectionSource.choices, initial=DetectionSource.STAFF)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=10_000)
    impact = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=10_000,
        help_text="Who is affected and how.",
    )
    started_at = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="When impact began, if before now (your time zone is the portal's).",
    )
    commander = UserChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Me",
        help_text="You, unless you choose someone else who can respond.",
    )
    restricted = forms.BooleanField(
        required=False, label="Restricted",
        help_text="Only its responders (roles, responders, people paged) and the groups below see it; for everyone else "
                  "it does not exist. A restricted type (e.g. a suspected breach) always restricts.")
    access_groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.order_by("name"), required=False, widget=forms.CheckboxSelectMultiple, label="Groups",
        help_text="Groups that may read it while restricted (e.g. Security, Legal), besides the type's.")
    field_order = ["title", "severity", "type", "commander", "restricted", "access_groups", "services", "detection_source",
                   "summary", "impact", "started_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commander"].queryset = selectors.people_who_can_respond()


class EditForm(PortalForm):
    title = forms.CharField(max_length=200)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=10_000)
    impact = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=10_000)
    started_at = forms.DateTimeField(
        required=False, label="Impact started", widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}),
        help_text="When impact began (up to the declaration; the metrics measure time to know from it).")
    services = forms.ModelMultipleChoiceField(queryset=Service.objects.all(), required=False, widget=forms.CheckboxSelectMultiple)


class StatusForm(PortalForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "status_%s")  # unique ids beside the other forms of the incident page
        super().__init__(*args, **kwargs)

    status = forms.ChoiceField(choices=IncidentStatus.choices)
    message = forms.CharField(required=False, max_length=2_000, widget=forms.TextInput(attrs={"placeholder": "Why (optional)"}))


class SeverityForm(PortalForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "sev_%s")  # unique ids beside the other forms of the incident page
        super().__init__(*args, **kwargs)

    severity = forms.ModelChoiceField(queryset=Severity.objects.filter(is_active=True), empty_label=None)
    reason = forms.CharField(required=False, max_length=2_000, widget=forms.TextInput(attrs={"placeholder": "Why (optional)"}))


class TypeForm(PortalForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "type_%s")
        super().__init__(*args, **kwargs)

    type = forms.ModelChoiceField(queryset=IncidentType.objects.filter(is_active=True), required=False, empty_label="— not classified —")
    reason = forms.CharField(required=False, max_length=2_000, widget=forms.TextInput(attrs={"placeholder": "Why (optional)"}))


class RoleForm(PortalForm):
    role = forms.ChoiceField(choices=[c for c in Role.choices if c[0] != Role.RESPONDER])
    user = UserChoiceField(queryset=active_users())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = active_users()


class ResponderForm(PortalForm):
    user = UserChoiceField(queryset=active_users())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = active_users()


class NoteForm(PortalForm):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=20_000, label="Note")
    occurred_at = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), label="Happened at",
        help_text="Leave empty for now; set it to record something that happened earlier.",
    )


class UpdateForm(PortalForm):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=20_000, label="Update", help_text="Markdown.")
    status = forms.ChoiceField(choices=[("", "Keep current status"), *IncidentStatus.choices], required=False)


class ResolveForm(PortalForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "resolve_%s")  # unique ids beside the other forms of the incident page
        super().__init__(*args, **kwargs)

    summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000, label="Resolution summary", required=False,
        help_text="Can be added later: the postmortem asks for it.",
    )
    public_message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000, required=False, label="Public message",
        help_text="Posted to the status page; empty posts the resolution notice template.",
    )
    root_cause_tag = forms.SlugField(max_length=60, required=False, help_text="A short tag shared by repeat incidents, e.g. db-connection-pool.")
    false_positive = forms.BooleanField(required=False, label="This was a false positive")


class ReopenForm(PortalForm):
    reason = forms.CharField(max_length=2_000, required=False)


class RestrictionForm(PortalForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "restrict_%s")
        super().__init__(*args, **kwargs)

    restricted = forms.BooleanField(required=False, label="Restricted to its responders and these groups")
    access_groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.order_by("name"), required=False, widget=forms.CheckboxSelectMultiple, label="Groups")
    reason = forms.CharField(required=False, max_length=500, widget=forms.TextInput(attrs={"placeholder": "Why (optional)"}))


class WarRoomForm(PortalForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "warroom_%s")
        super().__init__(*args, **kwargs)

    url = forms.CharField(
        max_length=500, required=False, label="Bridge link",
        help_text="Paste the call's link, or leave empty to start one from the severity's pattern.")


class LinkForm(PortalForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "link_%s")
        super().__init__(*args, **kwargs)

    kind = forms.ChoiceField(choices=LinkKind.choices, initial=LinkKind.CHAT)
    title = forms.CharField(max_length=200)
    url = forms.CharField(max_length=1000, label="Link", help_text="An http(s) link.")


class LinkRemoveForm(PortalForm):
    link = forms.IntegerField(min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)


class IncidentFilterForm(PortalForm):
    q = forms.CharField(required=False, label="Search", widget=forms.TextInput(attrs={"placeholder": "Title, number or summary", "type": "search"}))
    status = forms.ChoiceField(choices=[("", "Any status"), ("open", "Open"), *IncidentStatus.choices], required=False)
    severity = forms.ChoiceField(required=False)
    service = forms.ChoiceField(required=False)
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["severity"].choices = [("", "Any severity"), *Severity.objects.values_list("key", "key")]
        self.fields["service"].choices = [("", "Any service"), *Service.objects.values_list("slug", "name")]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("The start date is after the end date.")
        return data
