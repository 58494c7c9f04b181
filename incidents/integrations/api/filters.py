import django_filters

from incidents.bounded import PortalFilterSet

from ..models import Alert, AlertStatus, Integration, IntegrationKind


class IntegrationFilter(PortalFilterSet):
    service = django_filters.CharFilter(field_name="service__slug")
    kind = django_filters.ChoiceFilter(choices=IntegrationKind.choices)
    active = django_filters.BooleanFilter(field_name="revoked_at", lookup_expr="isnull")
    archived = django_filters.BooleanFilter(field_name="archived_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Integration
        fields = ["service", "kind", "active", "archived"]


class AlertFilter(PortalFilterSet):
    integration = django_filters.UUIDFilter(field_name="integration__public_id")
    service = django_filters.CharFilter(field_name="integration__service__slug")
    incident = django_filters.CharFilter(field_name="incident__number")
    status = django_filters.MultipleChoiceFilter(choices=AlertStatus.choices)
    open = django_filters.BooleanFilter(method="filter_open")
    seen_after = django_filters.IsoDateTimeFilter(field_name="last_seen_at", lookup_expr="gte")
    seen_before = django_filters.IsoDateTimeFilter(field_name="last_seen_at", lookup_expr="lt")

    class Meta:
        model = Alert
        fields = ["integration", "service", "incident", "status", "fingerprint", "severity", "suppressed", "open", "seen_after", "seen_before"]

    def filter_open(self, queryset, name, value):
        return queryset.exclude(status=AlertStatus.RESOLVED) if value else queryset.filter(status=AlertStatus.RESOLVED)
