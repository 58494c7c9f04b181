"""Demo data for `make run`: components for the demo services, a group, branding, the public
side of the demo incidents (past ones with public updates), and a maintenance window."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from incidents.models import Incident, StatusUpdate, Visibility

from . import services
from .models import (
    ComponentGroup,
    ComponentImpact,
    ComponentStatus,
    ComponentStatusPeriod,
    FooterLink,
    PageSettings,
    PublicIncident,
    PublicUpdateInfo,
    StatusComponent,
)

COMPONENTS = [
    # service slug, public name, description, group, degrade on alert
    ("web-app", "Web application", "app.example.com", None, False),
    ("api", "REST API", "api.example.com and the SDKs", "Platform", True),
    ("database", "Data storage", "Where your data lives", "Platform", False),
    ("auth", "Login & SSO", "Sign-in, single sign-on and sessions", "Platform", False),
    ("payments", "Payments", "Checkout and billing", None, True),
    ("message-delivery", "Notifications", "Email, SMS and push delivery", None, True),
]
PAST_STATES = [ComponentStatus.MAJOR_OUTAGE, ComponentStatus.PARTIAL_OUTAGE, ComponentStatus.DEGRADED_PERFORMANCE]


@transaction.atomic
def seed(context) -> None:
    page, _ = PageSettings.objects.get_or_create(pk=1, defaults={"name": "Example Inc. status", "support_email": "support@example.com"})
    FooterLink.objects.get_or_create(page=page, label="Example Inc.", defaults={"url": "https://example.com/", "position": 0})
    FooterLink.objects.get_or_create(page=page, label="Privacy", defaults={"url": "https://example.com/privacy", "position": 1})
    group, _ = ComponentGroup.objects.get_or_create(name="Platform", defaults={"position": 1})
    by_service = {}
    for i, (slug, name, desc, grp, degrade) in enumerate(COMPONENTS):
        service = context["services"].get(slug)
        if service is None:
            continue
        component = StatusComponent(service=service, name=name, description=desc, group=group if grp else None, position=i,
                                    degrade_on_alert=degrade, start_date=timezone.localdate() - timedelta(days=120))
        by_service[service.pk] = services.component_save(component=component)
    # Past incidents: their public updates publish them; give each an interval on the bars.
    for incident in Incident.objects.prefetch_related("services").order_by("declared_at"):
        public = list(StatusUpdate.objects.filter(incident=incident, visibility=Visibility.PUBLIC).order_by("created_at"))
        comps = [by_service[s.pk] for s in incident.services.all() if s.pk in by_service]
        if not public or not comps:
            continue
        pub = services.public_incident_ensure(incident, now=public[0].created_at)
        for u in public:
            PublicUpdateInfo.objects.get_or_create(update=u)
        for j, c in enumerate(comps):
            state = PAST_STATES[min(j, 2)] if incident.severity.rank <= 1 else ComponentStatus.DEGRADED_PERFORMANCE
            if incident.is_open:
                state = PAST_STATES[min(j + 1, 2)]
            ComponentImpact.objects.update_or_create(incident=incident, component=c, defaults={"status": state})
            if incident.resolved_at:
                ComponentStatusPeriod.objects.create(component=c, status=state, started_at=incident.started_at, ended_at=incident.resolved_at)
        PublicIncident.objects.filter(pk=pub.pk).update(impact={0: "critical", 1: "major"}.get(incident.severity.rank, "minor"))
        services.components_refresh([c.pk for c in comps])
    now = timezone.now()
    if "database" in context["services"]:
        start = (now + timedelta(days=2)).replace(hour=2, minute=0, second=0, microsecond=0)
        services.maintenance_save(
            title="Database version upgrade", description="We are upgrading the primary database cluster. "
            "Short periods of read-only access are expected.", services=[context["services"]["database"]],
            scheduled_for=start, scheduled_until=start + timedelta(hours=2), by=context["users"].get("admin"),
        )
