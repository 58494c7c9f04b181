from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from incidents import archive
from incidents.api.archive import ArchiveActions
from incidents.api.idempotency import IdempotentCreateMixin, idempotent
from incidents.models import Service

from .. import selectors
from ..models import Integration, IntegrationMaintenance, Runbook
from ..services import configuration, ingest, runbooks
from . import serializers as s
from .filters import AlertFilter, IntegrationFilter

CONFIG_FIELDS = set(configuration.EDITABLE) | set(configuration.HEARTBEAT_FIELDS)


class IntegrationViewSet(ArchiveActions, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                         mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Alert integrations. The key is returned once, by create and rotate-key; only its
    SHA-256 is stored."""

    serializer_class = s.IntegrationSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_class = IntegrationFilter
    search_fields = ["name"]

    def get_queryset(self):
        return Integration.objects.select_related("service", "default_severity", "repeat_severity", "heartbeat").order_by("pk")

    def _created(self, integration, key, code):
        integration = self.get_queryset().get(pk=integration.pk)
        return Response(s.IntegrationCreatedSerializer(integration, context={"key": key}).data, status=code)

    @extend_schema(responses={201: s.IntegrationCreatedSerializer})
    @idempotent(secrets=("key",))  # a retried POST must not mint a second key; the replay withholds the key
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        integration, key = configuration.integration_create(
            name=data.pop("name"), service=data.pop("service"), kind=data.pop("kind"), by=request.user,
            default_severity=data.pop("default_severity", None), **data,
        )
        return self._created(integration, key, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        integration = self.get_object()
        serializer = self.get_serializer(integration, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        changes = {k: v for k, v in serializer.validated_data.items() if k in CONFIG_FIELDS}
        configuration.integration_update(integration=integration, by=request.user, **changes)
        return Response(self.get_serializer(self.get_queryset().get(pk=integration.pk)).data)

    @extend_schema(request=None, responses=s.IntegrationCreatedSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-key")
    def rotate_key(self, request, id=None):
        integration = self.get_object()
        key = configuration.integration_rotate_key(integration=integration, by=request.user)
        return self._created(integration, key, status.HTTP_200_OK)

    @extend_schema(request=None, responses=s.IntegrationSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, id=None):
        integration = self.get_object()
        configuration.integration_revoke(integration=integration, by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=integration.pk)).data)

    @staticmethod
    def archive_with(integration, by):  # also revokes; integrations are never deleted (their alerts are history)
        return configuration.integration_archive(integration=integration, by=by)

    @staticmethod
    def restore_with(integration, by):
        return configuration.integration_restore(integration=integration, by=by)

    @extend_schema(request=s.TestAlertSerializer, responses={201: s.AlertSerializer})
    @action(detail=True, methods=["post"], url_path="test-alert")
    @idempotent
    def test_alert(self, request, id=None):
        integration = self.get_object()
        data = s.TestAlertSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = ingest.integration_send_test_alert(integration=integration, by=request.user, open_incident=data.validated_data["open_incident"])
        alert = selectors.alert_queryset(self.request.user).get(pk=alert.pk)
        return Response(s.AlertSerializer(alert).data, status=status.HTTP_201_CREATED)


class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    """Alerts received, newest first. Filters: integration, service, incident, status, open,
    fingerprint, severity, suppressed, seen_after, seen_before."""

    serializer_class = s.AlertSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_class = AlertFilter
    search_fields = ["title", "fingerprint"]
    ordering_fields = ["last_seen_at", "first_seen_at", "count"]

    def get_queryset(self):
        return selectors.alert_queryset(self.request.user).order_by("-last_seen_at", "-pk")


class MaintenanceWindowViewSet(IdempotentCreateMixin, viewsets.ModelViewSet):
    """Per-integration maintenance windows: alerts are recorded but page nobody."""

    serializer_class = s.MaintenanceWindowSerializer
    filterset_fields = ["integration__public_id"]

    def get_queryset(self):
        return IntegrationMaintenance.objects.select_related("integration").order_by("-starts_at")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = configuration.integration_maintenance_create(
            integration=data["integration"], starts_at=data["starts_at"], ends_at=data["ends_at"],
            reason=data.get("reason", ""), by=self.request.user,
        )

    def perform_update(self, serializer):
        changes = {k: v for k, v in serializer.validated_data.items() if k in ("starts_at", "ends_at", "reason")}
        serializer.instance = configuration.integration_maintenance_update(window=serializer.instance, by=self.request.user, **changes)

    def perform_destroy(self, instance):
        configuration.integration_maintenance_delete(window=instance, by=self.request.user)


class RunbookViewSet(IdempotentCreateMixin, viewsets.ModelViewSet):
    serializer_class = s.RunbookSerializer
    lookup_field = "identifier"
    filterset_fields = {"services__slug": ["exact"], "identifier": ["exact", "startswith"]}
    search_fields = ["identifier", "title", "steps"]

    def get_queryset(self):
        return Runbook.objects.prefetch_related(Prefetch("services", queryset=Service.objects.order_by("slug"))).order_by("identifier")

    def _save(self, serializer, runbook=None):
        data = dict(serializer.validated_data)
        services_ = data.pop("services", None)
        identifier = data.pop("identifier", None)
        return runbooks.runbook_save(runbook=runbook, identifier=identifier, services=services_, by=self.request.user, **data)

    def perform_create(self, serializer):
        serializer.instance = self._save(serializer)

    def perform_update(self, serializer):
        serializer.instance = self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        archive.delete_unreferenced(instance, by=self.request.user, what=f"The runbook {instance.identifier}", archive_hint="no archive: unlink it")
