from django import forms

from incidents.bounded import PortalForm
from incidents.models import IncidentStatus, Maintenance, Service

from .models import ComponentStatus, StatusComponent


class SubscribeForm(PortalForm):
    kind = forms.ChoiceField(choices=[("email", "Email"), ("webhook", "Webhook")], initial="email", widget=forms.RadioSelect,
                             label="Get updates by")
    email = forms.EmailField(required=False, max_length=254, help_text="We send a confirmation link first.")
    endpoint = forms.URLField(required=False, max_length=500, label="Webhook URL", assume_scheme="https",
                              help_text="Receives Statuspage-format JSON POSTs.")
    components = forms.ModelMultipleChoiceField(
        queryset=StatusComponent.objects.filter(archived_at__isnull=True).order_by("position", "name"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to hear about everything.",
    )
    # A field people never see; bots fill it in.
    website = forms.CharField(required=False, widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}), label="Leave empty")

    def clean(self):
        data = super().clean()
        if data.get("website"):
            raise forms.ValidationError("Please leave the last field empty.")
        if data.get("kind") == "email" and not data.get("email"):
            self.add_error("email", "Enter an email address.")
        if data.get("kind") == "webhook" and not data.get("endpoint"):
            self.add_error("endpoint", "Enter the URL to POST to.")
        return data


class PublishForm(PortalForm):
    """The communications lead's one-step public update; one state field per component is added."""

    name = forms.CharField(max_length=200, label="Public title", help_text="What the public sees as the incident's name.")
    status = forms.ChoiceField(choices=IncidentStatus.choices)
    template = forms.ChoiceField(required=False, label="Start from template")
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 7}), max_length=20_000, help_text="Markdown. Public: no names, no internal details.")

    def __init__(self, *args, components=(), templates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.components = list(components)
        self.fields["template"].choices = [("", "—")] + [(str(t.pk), f"{t.name} ({t.get_kind_display()})") for t in templates]
        for c in self.components:
            self.fields[f"component_{c.pk}"] = forms.ChoiceField(
                choices=[("", "Not affected")] + list(ComponentStatus.choices), required=False, label=c.name,
            )

    def component_fields(self):
        return [self[f"component_{c.pk}"] for c in self.components]

    def component_states(self) -> dict:
        return {c: self.cleaned_data[f"component_{c.pk}"] for c in self.components if self.cleaned_data.get(f"component_{c.pk}")}


class MaintenanceForm(PortalForm):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=10_000,
                                  help_text="Markdown, public: posted as the 'scheduled' update.")
    services = forms.ModelMultipleChoiceField(queryset=Service.active.all(), widget=forms.CheckboxSelectMultiple)
    scheduled_for = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                                        help_text="Server time zone (UTC unless configured).")
    scheduled_until = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    public = forms.BooleanField(required=False, initial=True, help_text="Shown on the status page, subscribers notified.")
    suppress_alerts = forms.BooleanField(required=False, initial=True, help_text="Alerts on these services page nobody during the window.")

    @classmethod
    def initial_for(cls, m: Maintenance) -> dict:
        return {"title": m.title, "description": m.description, "services": list(m.services.all()), "scheduled_for": m.scheduled_for,
                "scheduled_until": m.scheduled_until, "public": m.public, "suppress_alerts": m.suppress_alerts}


class MaintenanceStepForm(PortalForm):
    status = forms.ChoiceField(choices=[])
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=10_000, label="Public message")
