from rest_framework import serializers

from incidents.bounded import PortalModelSerializer, PortalSerializer
from incidents.models import Maintenance, MaintenanceStatus, Service

from ..models import ComponentGroup, ComponentStatus, StatusComponent


class StatusComponentSerializer(PortalModelSerializer):
    id = serializers.CharField(source="code", read_only=True)
    service = serializers.SlugRelatedField(slug_field="slug", queryset=Service.active.all())
    group = serializers.SlugRelatedField(slug_field="code", queryset=ComponentGroup.objects.all(), required=False, allow_null=True)
    override = serializers.ChoiceField(choices=[("", "none")] + list(ComponentStatus.choices), required=False, allow_blank=True)

    class Meta:
        model = StatusComponent
        fields = ["id", "service", "name", "description", "group", "position", "showcase", "only_show_if_degraded",
                  "degrade_on_alert", "override", "status", "start_date", "created_at", "updated_at", "archived_at"]
        read_only_fields = ["status", "created_at", "updated_at", "archived_at"]
        extra_kwargs = {"name": {"required": False}}


class MaintenanceSerializer(PortalModelSerializer):
    id = serializers.SerializerMethodField()
    services = serializers.SlugRelatedField(slug_field="slug", queryset=Service.active.all(), many=True)
    public_id = serializers.SerializerMethodField()

    class Meta:
        model = Maintenance
        fields = ["id", "public_id", "title", "description", "services", "scheduled_for", "scheduled_until", "status", "public",
                  "suppress_alerts", "created_at", "updated_at"]
        read_only_fields = ["status", "created_at", "updated_at"]

    def get_id(self, obj) -> int:
        return obj.pk

    def get_public_id(self, obj) -> str | None:
        record = getattr(obj, "statuspage", None)
        return record.code if record else None


class MaintenanceStepSerializer(PortalSerializer):
    status = serializers.ChoiceField(choices=MaintenanceStatus.choices)
    body = serializers.CharField(required=False, allow_blank=True, max_length=10_000, default="")
