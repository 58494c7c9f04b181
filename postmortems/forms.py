from django import forms
from django.contrib.auth import get_user_model

from incidents.bounded import PortalForm, PortalModelForm
from incidents.forms import UserChoiceField

from . import reports
from .models import ActionCategory, ActionItem, ActionStatus, PostmortemTemplate

User = get_user_model()


def people():
    """Everyone, active or not: the service refuses inactive users with a clear message."""
    return User.objects.order_by("-is_active", "first_name", "last_name", "username")


def active_people():
    return User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")


DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class PostmortemCreateForm(PortalForm):
    template = forms.ModelChoiceField(queryset=PostmortemTemplate.objects.all(), required=False,
                                      help_text="Empty: the template chosen for the incident's severity.")
    owner = UserChoiceField(queryset=active_people(), required=False, help_text="Empty: the incident commander.")
    due_at = forms.DateTimeField(required=False, widget=DATETIME, help_text="Empty: the severity's postmortem deadline.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = people()


class PostmortemDetailsForm(PortalForm):
    title = forms.CharField(max_length=200)
    owner = UserChoiceField(queryset=active_people(), required=False)
    due_at = forms.DateTimeField(widget=DATETIME)
    reviewers = forms.ModelMultipleChoiceField(queryset=active_people(), required=False, widget=forms.CheckboxSelectMultiple)
    review_meeting_at = forms.DateTimeField(required=False, widget=DATETIME, label="Review meeting")
    review_meeting_place = forms.CharField(max_length=200, required=False, label="Meeting place", help_text="Room or video-call link.")
    public_summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5_000,
                                     help_text="Markdown. Shown on the status page once the postmortem is published.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = people()
        self.fields["reviewers"].queryset = people()


class ActionItemForm(PortalModelForm):
    # Optional to save, but the postmortem cannot be published while an item lacks them.
    publish_required = ("owner", "due_date")

    owner = UserChoiceField(queryset=active_people(), required=False)
    ticket_url = forms.URLField(required=False, max_length=500, assume_scheme="https", label="Ticket link",
                                help_text="Optional link to the item in an external tracker.")

    class Meta:
        model = ActionItem
        fields = ["title", "description", "owner", "due_date", "category", "priority", "status", "ticket_url"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2}), "due_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, creating: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = people()
        if creating:
            del self.fields["status"]

    def _post_clean(self):
        """Validation of the rules is the service's: skip the model's own full_clean()."""


class ActionItemFilterForm(PortalForm):
    owner = forms.CharField(required=False, help_text="A username, or 'me'.")
    category = forms.ChoiceField(choices=[("", "Any category"), *ActionCategory.choices], required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), ("open_any", "Open or in progress"), *ActionStatus.choices], required=False)
    overdue = forms.BooleanField(required=False, label="Overdue only")


class MetricsRangeForm(PortalForm):
    since = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until:
            if since > until:
                raise forms.ValidationError("The start of the range is after its end.")
            if (until - since).days > 3 * 366:
                raise forms.ValidationError("Choose a range of at most three years.")
        return data




def range_from_params(params) -> tuple[MetricsRangeForm, reports.DateRange]:
    """The range asked for (`since`, `until`, both inclusive), or the last 90 days. The form
    carries any errors; the range is then the default."""
    default = reports.DateRange.last_days(90)
    if not params.get("since") and not params.get("until"):
        return MetricsRangeForm(initial={"since": default.start, "until": default.end}), default
    form = MetricsRangeForm({"since": params.get("since") or default.start, "until": params.get("until") or default.end})
    if form.is_valid():
        return form, reports.DateRange(form.cleaned_data["since"], form.cleaned_data["until"])
    return form, default
