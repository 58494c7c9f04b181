import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from delivery.models import Delivery, DeliveryStatus
from incidents.api.idempotency import IdempotentCreateMixin, idempotent
from incidents.bounded import PortalFilterSet

from .. import selectors, services
from ..models import ContactMethod, NotificationRule, RuleUrgency
from . import serializers as s


class ContactMethodViewSet(IdempotentCreateMixin, viewsets.ModelViewSet):
    """Your own contact methods. Creating one also adds an "at once" notification rule."""

    serializer_class = s.ContactMethodSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_fields = ["kind", "is_active"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return ContactMethod.objects.none()
        return ContactMethod.objects.filter(user=self.request.user).prefetch_related("rules").order_by("pk")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.contact_method_create(
            user=self.request.user, kind=data["kind"], target=data["target"], label=data.get("label", ""),
            rate_limit_count=data.get("rate_limit_count"), rate_limit_window=data.get("rate_limit_window"), by=self.request.user,
        )

    def perform_update(self, serializer):
        serializer.instance = services.contact_method_update(method=serializer.instance, by=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.contact_method_delete(method=instance, by=self.request.user)

    @extend_schema(request=None, responses={202: s.NotificationSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def test(self, request, id=None):
        row = services.contact_method_send_test(method=self.get_object(), by=request.user)
        return Response(s.NotificationSerializer(row).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=s.ContactMethodSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, id=None):
        """A new signing secret for a generic webhook; the old one stops verifying at once."""
        method = services.contact_method_rotate_secret(method=self.get_object(), by=request.user)
        return Response(self.get_serializer(method).data)


class NotificationRuleViewSet(
    IdempotentCreateMixin, mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Your own notification rules: which contact method, how many minutes after the page."""

    serializer_class = s.NotificationRuleSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return NotificationRule.objects.none()
        return NotificationRule.objects.filter(user=self.request.user).select_related("contact_method")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.notification_rule_create(
            user=self.request.user, contact_method=data["contact_method"], delay_minutes=data["delay_minutes"],
            urgency=data.get("urgency", RuleUrgency.HIGH), by=self.request.user,
        )

    def perform_destroy(self, instance):
        services.notification_rule_delete(rule=instance, by=self.request.user)


class NotificationFilter(PortalFilterSet):
    incident = django_filters.CharFilter(field_name="incident__number")
    status = django_filters.MultipleChoiceFilter(choices=DeliveryStatus.choices)
    user = django_filters.CharFilter(field_name="user__username")

    class Meta:
        model = Delivery
        fields = ["incident", "status", "channel", "user", "purpose"]


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """Every delivery and its attempts (read only)."""

    serializer_class = s.NotificationSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_class = NotificationFilter
    ordering_fields = ["created_at", "due_at", "status"]

    def get_queryset(self):
        return selectors.notification_list(viewer=self.request.user)


class StakeholderSubscriptionViewSet(IdempotentCreateMixin, viewsets.ModelViewSet):
    serializer_class = s.StakeholderSubscriptionSerializer
    filterset_fields = ["kind", "frequency", "is_active"]

    def get_queryset(self):
        return selectors.subscription_list()

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.subscription_create(
            name=data["name"], kind=data["kind"], target=data["target"], frequency=data["frequency"],
            severities=data.get("severities", []), include_drills=data.get("include_drills", False), by=self.request.user,
        )

    def perform_update(self, serializer):
        serializer.instance = services.subscription_update(subscription=serializer.instance, by=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.subscription_delete(subscription=instance, by=self.request.user)
