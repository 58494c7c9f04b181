import django_filters

from incidents.bounded import PortalFilterSet

from ..models import Incident, IncidentStatus, Service


class IncidentFilter(PortalFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=IncidentStatus.choices)
    severity = django_filters.CharFilter(field_name="severity__key")
    type = django_filters.CharFilter(field_name="type__key", label="Incident type (key)")
    service = django_filters.CharFilter(field_name="services__slug", distinct=True)
    declared_after = django_filters.IsoDateTimeFilter(field_name="declared_at", lookup_expr="gte")
    declared_before = django_filters.IsoDateTimeFilter(field_name="declared_at", lookup_expr="lt")
    open = django_filters.BooleanFilter(method="filter_open", label="Only open incidents")

    class Meta:
        model = Incident
        fields = ["status", "severity", "type", "is_drill", "service", "detection_source", "declared_after", "declared_before", "open"]

    def filter_open(self, queryset, name, value):
        return queryset.open() if value else queryset.filter(status=IncidentStatus.RESOLVED)


class ArchivedFilter(PortalFilterSet):
    """`?archived=false`: what pickers offer; `true`: the archive; unset: both."""

    archived = django_filters.BooleanFilter(field_name="archived_at", lookup_expr="isnull", exclude=True)


class ServiceFilter(ArchivedFilter):
    class Meta:
        model = Service
        fields = ["archived"]
