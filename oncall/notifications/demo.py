"""Demo data for `make run`: contact methods, rules and stakeholder subscriptions."""

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
    services.subscription_create(
        name="Leadership", kind="email", target="leadership@example.com", frequency="realtime",
        severities=Severity.objects.filter(key__in=["P0", "P1"]),
    )
    services.subscription_create(
        name="Customer support (hourly)", kind="email", target="support@example.com", frequency="hourly",
        severities=Severity.objects.filter(key__in=["P0", "P1", "P2"]),
    )
