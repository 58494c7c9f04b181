"""Demo data for `make run`: contact methods, rules and stakeholder subscriptions."""

from incidents.exceptions import InvalidInput
from incidents.models import Severity

from . import services
from .models import ContactMethod


def seed(context) -> None:
    users = context["users"]
    for username, user in users.items():
        if username == "viewer" or ContactMethod.objects.filter(user=user).exists():
            continue
        services.contact_method_create(user=user, kind="email", target=user.email, label="Work email")
    dana = users.get("dana")
    if dana is not None:
        second = services.contact_method_create(
            user=dana, kind="email", target="dana.personal@example.com", label="Personal email", add_default_rule=False
        )
        services.notification_rule_create(user=dana, contact_method=second, delay_minutes=5)
        phone_ladder(dana)
    services.subscription_create(
        name="Leadership", kind="email", target="leadership@example.com", frequency="realtime",
        severities=Severity.objects.filter(key__in=["P0", "P1"]),
    )
    services.subscription_create(
        name="Customer support (hourly)", kind="email", target="support@example.com", frequency="hourly",
        severities=Severity.objects.filter(key__in=["P0", "P1", "P2"]),
    )


def phone_ladder(user) -> None:
    """A full ladder: ntfy push at once, SMS after 2 minutes, a call after 5 if still
    unacknowledged. The numbers are from a range kept for fiction (+44 20 7946 0xxx) and stay
    unverified (the person page offers to verify them once Twilio is configured); the push topic
    needs the ntfy server to resolve, and is left out when it does not (an offline demo)."""
    try:
        services.contact_method_create(user=user, kind="ntfy", target="demo-oncall-dana", label="Phone push (ntfy)")
    except InvalidInput:
        pass
    for kind, delay, label in (("sms", 2, "Mobile (SMS)"), ("voice", 5, "Mobile (call)")):
        method = services.contact_method_create(user=user, kind=kind, target="+44 20 7946 0018", label=label, add_default_rule=False)
        services.notification_rule_create(user=user, contact_method=method, delay_minutes=delay)
