from datetime import date

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from incidents import untrusted, zones
from incidents.bounded import PortalForm, PortalModelForm
from incidents.forms import UserChoiceField
from incidents.integrations.models import Runbook
from incidents.models import Severity

from . import reports
from .gamedays import NewActionItem
from .models import ActionCategory, ActionItem, ActionStatus, GameDayOutcome, PostmortemTemplate

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


# --- game days ----------------------------------------------------------------------------------


class PeopleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, user):
        name = user.get_full_name()
        return f"{name} ({user.username})" if name else user.username


class GameDayForm(PortalForm):
    """Start and end are read as wall-clock times in the chosen zone (not the viewer's)."""

    title = forms.CharField(max_length=200)
    scenario = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), max_length=20_000,
                               help_text="What will be simulated and how (Markdown): the failure, the signals, what responders should do.")
    time_zone = forms.ChoiceField(choices=zones.choices, initial="Etc/UTC", help_text="Start and end are times in this zone.")
    starts_at = forms.DateTimeField(widget=DATETIME, label="Starts")
    ends_at = forms.DateTimeField(widget=DATETIME, label="Ends")
    runbook = forms.ModelChoiceField(queryset=Runbook.objects.order_by("identifier"), required=False,
                                     help_text="The portal's runbook the drill follows…")
    runbook_url = forms.URLField(required=False, max_length=500, assume_scheme="https", label="…or runbook link",
                                 help_text="…or a link to it elsewhere (http or https).")
    severity = forms.ModelChoiceField(queryset=Severity.objects.filter(is_active=True).order_by("rank"), required=False,
                                      help_text="Severity the drill is declared at; empty: the drill type's default.")
    facilitator = UserChoiceField(queryset=active_people(), required=False)
    participants = PeopleChoiceField(queryset=active_people(), required=False, widget=forms.CheckboxSelectMultiple,
                                     help_text="They get reminders a day and an hour before the start.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facilitator"].queryset = people()
        self.fields["participants"].queryset = people()

    def _in_zone(self, name: str, zone):
        value = self.cleaned_data.get(name)
        if value is None:
            return None
        naive = timezone.make_naive(value) if timezone.is_aware(value) else value
        return naive.replace(tzinfo=zone)

    def clean(self):
        data = super().clean()
        zone = zones.zone_or_none(data.get("time_zone"))
        if zone is not None:
            data["starts_at"] = self._in_zone("starts_at", zone)
            data["ends_at"] = self._in_zone("ends_at", zone)
        return data

    @staticmethod
    def initial_for(game_day) -> dict:
        zone = zones.zone_or_none(game_day.time_zone)
        return {
            "title": game_day.title, "scenario": game_day.scenario, "time_zone": game_day.time_zone,
            "starts_at": game_day.starts_at.astimezone(zone).replace(tzinfo=None),
            "ends_at": game_day.ends_at.astimezone(zone).replace(tzinfo=None),
            "runbook": game_day.runbook_id, "runbook_url": game_day.runbook_url, "severity": game_day.severity_id,
            "facilitator": game_day.facilitator_id, "participants": [p.pk for p in game_day.participants.all()],
        }


ACTION_LINES_HELP = ("One per line: “title”, or “title | owner's username | due date (YYYY-MM-DD)”. "
                     "They are made on the game day's drill and tracked with every other action item.")


class GameDayResultsForm(PortalForm):
    outcome = forms.ChoiceField(choices=[("", "—"), *GameDayOutcome.choices])
    learnt = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), max_length=20_000, label="What was learnt",
                             help_text="Markdown: what went well, what did not, what surprised the responders.")
    action_items = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=20_000,
                                   label="New action items", help_text=ACTION_LINES_HELP)

    def clean_action_items(self):
        items = []
        lines = [line.strip() for line in (self.cleaned_data.get("action_items") or "").splitlines() if line.strip()]
        if len(lines) > 50:
            raise forms.ValidationError("At most 50 action items at a time.")
        for n, line in enumerate(lines, 1):
            parts = [p.strip() for p in line.split("|")]
            if len(parts) > 3:
                raise forms.ValidationError(f"Line {n}: at most three parts, “title | owner | due date”.")
            title = parts[0]
            if not title or len(title) > 200:
                raise forms.ValidationError(f"Line {n}: a title of 1 to 200 characters.")
            owner = None
            if len(parts) > 1 and parts[1]:
                owner = User.objects.filter(username=parts[1][:150]).first()
                if owner is None:
                    raise forms.ValidationError(f"Line {n}: no user named “{parts[1][:150]}”.")
            due = None
            if len(parts) > 2 and parts[2]:
                try:
                    due = date.fromisoformat(parts[2][:10]) if len(parts[2]) == 10 else None
                except ValueError:
                    due = None
                if due is None:
                    raise forms.ValidationError(f"Line {n}: write the due date as YYYY-MM-DD.")
                try:
                    untrusted.validate_in_calendar(due)
                except forms.ValidationError as exc:
                    raise forms.ValidationError(f"Line {n}: {exc.messages[0]}") from None
            items.append(NewActionItem(title=title, owner=owner, due_date=due))
        return items


class GameDayCancelForm(PortalForm):
    reason = forms.CharField(max_length=500, required=False)
