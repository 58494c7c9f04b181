from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from .. import catalog, extensions, incident_types, selectors, services
from ..models import Incident, IncidentType, MetricTargets, Service, Severity, Visibility
from . import serializers as s
from .archive import ArchiveActions
from .filters import IncidentFilter, ServiceFilter
from .idempotency import IdempotentCreateMixin, idempotent

User = get_user_model()


class SeverityViewSet(IdempotentCreateMixin, viewsets.ModelViewSet):
    """Severities. One that anything refers to is deactivated (`is_active` false), not deleted."""

    queryset = Severity.objects.prefetch_related("checklist_items")
    serializer_class = s.SeveritySerializer
    lookup_field = "key"
    filterset_fields = ["is_active", "postmortem_required"]
    ordering_fields = ["rank"]

    def perform_create(self, serializer):
        serializer.instance = catalog.severity_create(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = catalog.severity_update(severity=serializer.instance, by=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        catalog.severity_delete(severity=instance, by=self.request.user)


class MetricTargetsViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """The targets the metrics page measures against (MTTK, MTTI, MTBF as durations, the
    false-positive rate as a ratio): one row, id 1, changed through its service (audited)."""

    queryset = MetricTargets.objects.all()
    serializer_class = s.MetricTargetsSerializer

    def perform_update(self, serializer):
        serializer.instance = catalog.metric_targets_update(by=self.request.user, **serializer.validated_data)


class IncidentTypeViewSet(IdempotentCreateMixin, viewsets.ModelViewSet):
    """Incident types. A type incidents refer to cannot be deleted: make it inactive."""

    queryset = IncidentType.objects.select_related("default_severity").prefetch_related("checklist_items")
    serializer_class = s.IncidentTypeSerializer
    lookup_field = "key"
    filterset_fields = ["is_active", "is_drill", "public"]
    ordering_fields = ["position", "name"]

    def perform_create(self, serializer):
        serializer.instance = incident_types.incident_type_create(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = incident_types.incident_type_update(
            incident_type=serializer.instance, by=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        incident_types.incident_type_delete(incident_type=instance, by=self.request.user)


class ServiceViewSet(ArchiveActions, IdempotentCreateMixin, viewsets.ModelViewSet):
    """Services. One that anything refers to is archived, not deleted: DELETE answers 409
    naming what refers to it; `archive` hides it from pickers and keeps it on past incidents."""

    queryset = Service.objects.all()
    serializer_class = s.ServiceSerializer
    lookup_field = "slug"
    search_fields = ["name", "description", "team"]
    filterset_class = ServiceFilter

    @staticmethod
    def archive_with(service, by):
        return catalog.service_archive(service=service, by=by)

    @staticmethod
    def restore_with(service, by):
        return catalog.service_restore(service=service, by=by)

    def perform_create(self, serializer):
        serializer.instance = catalog.service_create(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = catalog.service_update(service=serializer.instance, by=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        catalog.service_delete(service=instance, by=self.request.user)



class IncidentViewSet(
    IdempotentCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Incidents. State changes go through the action endpoints, each one service call."""

    serializer_class = s.IncidentSerializer
    lookup_field = "number"
    lookup_url_kwarg = "id"
    filterset_class = IncidentFilter
    search_fields = ["title", "number", "summary"]
    ordering_fields = ["declared_at", "severity__rank", "status"]

    def get_queryset(self):
        return selectors.incident_queryset().visible_to(self.request.user)

    def get_object(self):
        """A restricted incident the caller may not see is a 404, like one that does not exist."""
        incident = super().get_object()
        selectors.restricted_read_audit(incident, self.request.user)
        return incident

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return s.IncidentUpdateSerializer
        return super().get_serializer_class()

    def _detail(self, incident: Incident, code=status.HTTP_200_OK) -> Response:
        incident = selectors.incident_queryset().get(pk=incident.pk)
        return Response(s.IncidentSerializer(incident, context=self.get_serializer_context()).data, status=code)

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def perform_idempotent_create(self, request, *args, **kwargs):
        serializer = s.IncidentSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        incident = services.incident_declare(
            title=data["title"], severity=data.get("severity"), incident_type=data.get("type"), by=request.user,
            summary=data.get("summary", ""), impact=data.get("impact", ""), services=data.get("services", []),
            detection_source=data.get("detection_source", "staff"), started_at=data.get("started_at"),
            commander=data.get("commander"), restricted=data.get("restricted", False),
            access_groups=data.get("access_groups", ()),
        )
        return self._detail(incident, status.HTTP_201_CREATED)

    @extend_schema(request=s.IncidentUpdateSerializer, responses=s.IncidentSerializer)
    def update(self, request, *args, **kwargs):
        incident = self.get_object()
        serializer = s.IncidentUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        services.incident_update_details(incident=incident, by=request.user, **serializer.validated_data)
        return self._detail(incident)

    @extend_schema(request=None, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, id=None):
        incident = self.get_object()
        services.incident_acknowledge(incident=incident, by=request.user)
        return self._detail(incident)

    @extend_schema(request=s.StatusChangeSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def change_status(self, request, id=None):
        incident = self.get_object()
        data = self._input(s.StatusChangeSerializer)
        services.incident_change_status(incident=incident, status=data["status"], message=data["message"], by=request.user)
        return self._detail(incident)

    @extend_schema(request=s.SeverityChangeSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"], url_path="severity")
    def change_severity(self, request, id=None):
        incident = self.get_object()
        data = self._input(s.SeverityChangeSerializer)
        services.incident_change_severity(incident=incident, severity=data["severity"], reason=data["reason"], by=request.user)
        return self._detail(incident)

    @extend_schema(request=s.TypeChangeSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"], url_path="type")
    def change_type(self, request, id=None):
        incident = self.get_object()
        data = self._input(s.TypeChangeSerializer)
        services.incident_change_type(incident=incident, incident_type=data["type"], reason=data["reason"], by=request.user)
        return self._detail(incident)

    @extend_schema(request=s.IncidentRestrictionSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"])
    def restriction(self, request, id=None):
        """Restrict the incident to its responders plus named groups, change the groups, or lift it."""
        incident = self.get_object()
        data = self._input(s.IncidentRestrictionSerializer)
        services.incident_set_restriction(incident=incident, restricted=data["restricted"],
                                          access_groups=data.get("access_groups", ()), reason=data["reason"], by=request.user)
        return self._detail(incident)

    @extend_schema(request=s.RoleAssignSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"])
    def roles(self, request, id=None):
        incident = self.get_object()
        data = self._input(s.RoleAssignSerializer)
        if data["user"] is None:
            services.incident_unassign_role(incident=incident, role=data["role"], by=request.user)
        else:
            services.incident_assign_role(incident=incident, role=data["role"], user=data["user"], by=request.user)
        return self._detail(incident)

    @extend_schema(request=s.ResponderSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"])
    def responders(self, request, id=None):
        incident = self.get_object()
        data = self._input(s.ResponderSerializer)
        services.incident_add_responder(incident=incident, user=data["user"], by=request.user)
        return self._detail(incident)

    @extend_schema(request=s.NoteSerializer, responses={201: s.TimelineEventSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def notes(self, request, id=None):
        incident = self.get_object()
        data = self._input(s.NoteSerializer)
        event = services.incident_add_note(incident=incident, body=data["body"], occurred_at=data.get("occurred_at"), by=request.user)
        return Response(s.TimelineEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.StatusUpdateSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="updates")
    def updates(self, request, id=None):
        incident = self.get_object()
        return Response(s.StatusUpdateSerializer(incident.updates.select_related("author"), many=True).data)

    @extend_schema(request=s.StatusUpdateCreateSerializer, responses={201: s.StatusUpdateSerializer})
    @updates.mapping.post
    @idempotent
    def updates_create(self, request, id=None):
        incident = self.get_object()
        data = self._input(s.StatusUpdateCreateSerializer)
        if data["visibility"] == Visibility.PUBLIC:
            # The one public path: the status page's publish service, under its permission.
            public = extensions.public_updates()
            if public is None or not request.user.has_perm(public.permission):
                raise PermissionDenied("Publishing to the status page needs the publish permission.")
            update = public.publish(incident=incident, body=data["body"], status=data.get("status"), by=request.user)
        else:
            update = services.incident_post_update(incident=incident, body=data["body"], status=data.get("status"), by=request.user)
        return Response(s.StatusUpdateSerializer(update).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.TimelineEventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def timeline(self, request, id=None):
        incident = self.get_object()
        events = incident.timeline.select_related("actor").order_by("occurred_at", "pk")
        return Response(s.TimelineEventSerializer(events, many=True).data)

    @extend_schema(request=s.ResolveSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, id=None):
        incident = self.get_object()
        data = self._input(s.ResolveSerializer)
        services.incident_resolve(
            incident=incident, summary=data["summary"], false_positive=data["false_positive"],
            root_cause_tag=data["root_cause_tag"], by=request.user,
        )
        return self._detail(incident)

    @extend_schema(request=s.ReopenSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, id=None):
        incident = self.get_object()
        data = self._input(s.ReopenSerializer)
        services.incident_reopen(incident=incident, reason=data["reason"], by=request.user)
        return self._detail(incident)

    @extend_schema(request=s.WarRoomSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"], url_path="war-room")
    def war_room(self, request, id=None):
        incident = self.get_object()
        data = self._input(s.WarRoomSerializer)
        services.incident_start_war_room(incident=incident, url=data["url"], by=request.user)
        return self._detail(incident)

    @extend_schema(request=s.IncidentLinkCreateSerializer, responses={201: s.IncidentLinkSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def links(self, request, id=None):
        incident = self.get_object()
        data = self._input(s.IncidentLinkCreateSerializer)
        link = services.incident_add_link(incident=incident, title=data["title"], url=data["url"], kind=data["kind"], by=request.user)
        return Response(s.IncidentLinkSerializer(link).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"links/(?P<link_id>[0-9]{1,18})")
    def link_delete(self, request, id=None, link_id=None):
        incident = self.get_object()
        link = incident.links.filter(pk=link_id).first()
        if link is None:
            raise NotFound("No such link on this incident.")
        services.incident_remove_link(link=link, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
