from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from incidents.api.archive import ArchiveActions
from incidents.api.filters import ArchivedFilter
from incidents.api.idempotency import IdempotentCreateMixin
from incidents.models import Maintenance

from .. import services
from ..models import StatusComponent
from . import serializers as s


class ComponentFilter(ArchivedFilter):
    class Meta:
        model = StatusComponent
        fields = ["status", "degrade_on_alert", "archived"]


class StatusComponentViewSet(ArchiveActions, IdempotentCreateMixin, viewsets.ModelViewSet):
    """Status page components. Their `status` is derived; `override` pins it."""

    serializer_class = s.StatusComponentSerializer
    lookup_field = "code"
    lookup_url_kwarg = "id"
    search_fields = ["name", "description"]
    ordering_fields = ["position", "name"]
    filterset_class = ComponentFilter

    def get_queryset(self):
        return StatusComponent.objects.select_related("service", "group").order_by("position", "name")

    def perform_create(self, serializer):
        serializer.instance = services.component_save(component=StatusComponent(**serializer.validated_data), by=self.request.user)

    def perform_update(self, serializer):
        serializer.instance = services.component_update(component=serializer.instance, by=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.component_delete(component=instance, by=self.request.user)

    @staticmethod
    def archive_with(component, by):
        return services.component_archive(component=component, by=by)

    @staticmethod
    def restore_with(component, by):
        return services.component_restore(component=component, by=by)


class MaintenanceViewSet(IdempotentCreateMixin, viewsets.ModelViewSet):
    """Maintenance windows. The scheduler starts and completes them; `step` moves one by hand."""

    serializer_class = s.MaintenanceSerializer
    filterset_fields = ["status", "public"]
    ordering_fields = ["scheduled_for"]
    search_fields = ["title", "description"]

    def get_queryset(self):
        return Maintenance.objects.select_related("statuspage").prefetch_related("services").order_by("-scheduled_for")

    def perform_create(self, serializer):
        serializer.instance = services.maintenance_save(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        m = serializer.instance
        data = {
            "title": m.title, "description": m.description, "services": list(m.services.all()), "scheduled_for": m.scheduled_for,
            "scheduled_until": m.scheduled_until, "public": m.public, "suppress_alerts": m.suppress_alerts,
            **serializer.validated_data,
        }
        serializer.instance = services.maintenance_save(maintenance=m, by=self.request.user, **data)

    def perform_destroy(self, instance):
        services.maintenance_delete(maintenance=instance, by=self.request.user)

    @extend_schema(request=s.MaintenanceStepSerializer, responses=s.MaintenanceSerializer)
    @action(detail=True, methods=["post"])
    def step(self, request, pk=None):
        m = self.get_object()
        data = s.MaintenanceStepSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.maintenance_advance(maintenance=m, to=data.validated_data["status"], body=data.validated_data["body"], by=request.user)
        m = self.get_queryset().get(pk=m.pk)
        return Response(s.MaintenanceSerializer(m).data, status=status.HTTP_200_OK)
