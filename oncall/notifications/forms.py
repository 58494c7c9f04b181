from django import forms

from incidents.bounded import PortalForm
from incidents.models import Severity

from .models import SUBSCRIPTION_KINDS, ChannelKind, ContactMethod, Frequency, RuleUrgency


class ContactMethodForm(PortalForm):
    kind = forms.ChoiceField(choices=ChannelKind.choices)
    target = forms.CharField(
        max_length=2000, label="Address or URL",
        help_text="An email address; the incoming webhook URL from Slack, Teams or your receiver (http or https); an ntfy "
                  "topic URL (or a topic name on the portal's ntfy server); a phone number in international form (+44 …); "
                  "for the Slack app or the Mattermost bot, your chat username (pages go to the account you linked; a "
                  "Slack webhook method of someone who linked their Slack account goes as the app's direct message too).",
    )
    token = forms.CharField(max_length=100, required=False, label="Access token (ntfy only)",
                            help_text="For a protected ntfy topic: an access token (tk_…). Leave empty for an open topic.")
    label = forms.CharField(max_length=80, required=False, help_text="e.g. Work email, Team Slack.")
    rate_limit_count = forms.IntegerField(
        min_value=1, max_value=1000, initial=5, label="Messages per window",
        help_text="Beyond this, messages are folded into one digest at the end of the window.",
    )
    rate_limit_minutes = forms.IntegerField(min_value=1, max_value=1440, initial=10, label="Window (minutes)")

    @classmethod
    def for_method(cls, method: ContactMethod, data=None, *, target: str):
        """`target`: the URL as this reader may see it (masked for anyone but the owner)."""
        return cls(data, initial={
            "kind": method.kind, "target": target, "label": method.label,
            "rate_limit_count": method.rate_limit_count,
            "rate_limit_minutes": int(method.rate_limit_window.total_seconds() // 60),
        })


class RuleForm(PortalForm):
    contact_method = forms.ModelChoiceField(queryset=ContactMethod.objects.none(), empty_label=None)
    delay_minutes = forms.IntegerField(
        min_value=0, max_value=1440, initial=5, label="After (minutes)",
        help_text="0 notifies at once; later steps are skipped if the incident was acknowledged by then.",
    )
    urgency = forms.ChoiceField(
        choices=RuleUrgency.choices, initial=RuleUrgency.HIGH, required=False,
        help_text="Low-urgency incidents reach you in your working hours only; with no low-urgency rule, your "
                  "high-urgency rules are used then.")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            self.fields["contact_method"].queryset = ContactMethod.objects.filter(user=user)

    def clean_urgency(self):
        return self.cleaned_data.get("urgency") or RuleUrgency.HIGH


class SubscriptionForm(PortalForm):
    name = forms.CharField(max_length=120, help_text="e.g. Executive team, #incidents channel.")
    kind = forms.ChoiceField(choices=[c for c in ChannelKind.choices if c[0] in SUBSCRIPTION_KINDS])
    target = forms.CharField(max_length=2000, label="Webhook URL, email addresses or chat channel",
                             help_text="Several addresses: separate with commas. Slack app / Mattermost bot: the channel id "
                                       "(or <team id>/<channel id>); the bot must be in the channel.")
    severities = forms.ModelMultipleChoiceField(
        queryset=Severity.objects.filter(is_active=True), required=False, widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every severity.",
    )
    frequency = forms.ChoiceField(choices=Frequency.choices)
    include_drills = forms.BooleanField(required=False, label="Also drills",
                                        help_text="Hear about drills and game days too (marked [DRILL]).")
