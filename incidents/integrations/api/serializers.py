from django.conf import settings
from django.urls import reverse
from rest_framework import serializers

from incidents.bounded import PortalModelSerializer, PortalSerializer
from incidents.models import Service, Severity

from ..models import Alert, Integration, IntegrationKind, IntegrationMaintenance, Runbook

KEY_PLACEHOLDER = "YOUR_INTEGRATION_KEY"


def endpoint_url(integration: Integration, key: str = KEY_PLACEHOLDER) -> str:
    """Where a sender posts; with the real key only at creation / rotation."""
    if integration.kind == IntegrationKind.PAGERDUTY:
        return settings.SITE_URL + reverse("pagerduty-enqueue")
    name = {"alertmanager": "integrations-alertmanager", "webhook": "integrations-webhook", "heartbeat": "integrations-heartbeat"}[integration.kind]
    return settings.SITE_URL + reverse(name, kwargs={"key": key})


class IntegrationSerializer(PortalModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    service = serializers.SlugRelatedField(slug_field="slug", queryset=Service.active.all())
    default_severity = serializers.SlugRelatedField(slug_field="key", queryset=Severity.objects.filter(is_active=True), required=False)
    repeat_severity = serializers.SlugRelatedField(slug_field="key", queryset=Severity.objects.filter(is_active=True), required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=IntegrationKind.choices)
    endpoint = serializers.SerializerMethodField()
    active = serializers.BooleanField(source="is_active", read_only=True)
    heartbeat_interval = serializers.DurationField(required=False, write_only=True)
    heartbeat_grace = serializers.DurationField(required=False, write_only=True)
    heartbeat = serializers.SerializerMethodField()

    class Meta:
        model = Integration
        fields = [
            "id", "name", "service", "kind", "key_prefix", "active", "revoked_at", "endpoint", "default_severity",
            "severity_rules", "group_by", "field_mapping", "resolved_values", "auto_resolve", "flap_window",
            "repeat_threshold", "repeat_window", "repeat_severity", "rate_limit_per_minute", "created_at",
            "heartbeat_interval", "heartbeat_grace", "heartbeat", "archived_at",
        ]
        read_only_fields = ["key_prefix", "revoked_at", "created_at", "archived_at"]

    def get_endpoint(self, integration) -> str:
        return endpoint_url(integration, self.context.get("key", KEY_PLACEHOLDER))

    def get_heartbeat(self, integration) -> dict | None:
        hb = getattr(integration, "heartbeat", None) if integration.kind == IntegrationKind.HEARTBEAT else None
        if hb is None:
            return None
        return {"interval": str(hb.interval), "grace": str(hb.grace), "status": hb.status,
                "last_ping_at": hb.last_ping_at, "due_at": hb.due_at}


class IntegrationCreatedSerializer(IntegrationSerializer):
    key = serializers.SerializerMethodField()

    class Meta(IntegrationSerializer.Meta):
        fields = [*IntegrationSerializer.Meta.fields, "key"]

    def get_key(self, integration) -> str:
        return self.context["key"]


class AlertSerializer(PortalModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    integration = serializers.UUIDField(source="integration.public_id")
    integration_name = serializers.CharField(source="integration.name")
    service = serializers.CharField(source="integration.service.slug")
    incident = serializers.CharField(source="incident.number", default=None)

    class Meta:
        model = Alert
        fields = [
            "id", "integration", "integration_name", "service", "incident", "fingerprint", "status", "title",
            "description", "severity", "source_severity", "labels", "annotations", "links", "starts_at", "ends_at",
            "first_seen_at", "last_seen_at", "acknowledged_at", "resolved_at", "count", "suppressed",
            "suppressed_reason", "payload",
        ]
        read_only_fields = fields


class MaintenanceWindowSerializer(PortalModelSerializer):
    integration = serializers.SlugRelatedField(slug_field="public_id", queryset=Integration.objects.all())

    class Meta:
        model = IntegrationMaintenance
        fields = ["id", "integration", "starts_at", "ends_at", "reason"]

    def validate(self, attrs):
        starts = attrs.get("starts_at", getattr(self.instance, "starts_at", None))
        ends = attrs.get("ends_at", getattr(self.instance, "ends_at", None))
        if starts and ends and ends <= starts:
            raise serializers.ValidationError({"ends_at": "The window must end after it starts."})
        return attrs


class RunbookSerializer(PortalModelSerializer):
    services = serializers.SlugRelatedField(slug_field="slug", queryset=Service.objects.all(), many=True, required=False)

    class Meta:
        model = Runbook
        fields = [
            "identifier", "title", "prerequisites", "steps", "rollback", "time_estimate", "last_reviewed",
            "url", "services", "match_labels", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class TestAlertSerializer(PortalSerializer):
    open_incident = serializers.BooleanField(default=False)
