"""Shapes and validation of input; the rules are in the services."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework import serializers

from incidents.bounded import PortalModelSerializer, PortalSerializer
from incidents.integrations.models import Integration
from incidents.models import IncidentType, Service
from incidents.rules import may_read_secret

from ..models import EscalationLevel, EscalationPolicy, Layer, Override, RotationKind, Schedule, TargetKind
from ..services.policies import LevelSpec
from ..services.schedules import LayerSpec, RestrictionSpec

User = get_user_model()


class UserRefSerializer(PortalSerializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.username


class ParticipantSerializer(PortalSerializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), allow_null=True)
    turns = serializers.IntegerField(min_value=1, default=1)


class RestrictionSerializer(PortalSerializer):
    weekdays = serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=6), min_length=1)
    start = serializers.TimeField(help_text="Local time in the schedule's zone, on each of `weekdays`.")
    end = serializers.TimeField(help_text="Before the start: the window runs past midnight; equal to the start: it runs 24 h "
                                          "from the start, to the same time the next day.")


class LayerSerializer(PortalSerializer):
    id = serializers.IntegerField(required=False)
    name = serializers.CharField(max_length=80)
    position = serializers.IntegerField(read_only=True)
    rotation = serializers.ChoiceField(choices=RotationKind.choices, default=RotationKind.WEEKLY)
    every = serializers.IntegerField(min_value=1, default=1)
    handoff_time = serializers.TimeField(default="09:00")
    handoff_weekday = serializers.IntegerField(min_value=0, max_value=6, default=0)
    weekdays_only = serializers.BooleanField(default=False)
    starts_on = serializers.DateField()
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    participants = ParticipantSerializer(many=True)
    restrictions = RestrictionSerializer(many=True, required=False, default=list)
    effective_from = serializers.DateTimeField(required=False, allow_null=True, write_only=True,
                                               help_text="On update: participant changes apply from this instant.")

    def to_representation(self, layer: Layer):
        membership = layer.memberships.all()
        current = list(membership)[-1] if membership else None
        return {
            "id": layer.pk, "name": layer.name, "position": layer.position, "rotation": layer.rotation, "every": layer.every,
            "handoff_time": layer.handoff_time.strftime("%H:%M"), "handoff_weekday": layer.handoff_weekday,
            "weekdays_only": layer.weekdays_only, "starts_on": layer.starts_on.isoformat(),
            "ends_at": layer.ends_at.isoformat() if layer.ends_at else None,
            "participants": [{"user": m.user_id, "turns": m.turns} for m in current.members.all()] if current else [],
            "memberships": [{"effective_from": m.effective_from.isoformat() if m.effective_from else None,
                             "participants": [{"user": x.user_id, "turns": x.turns} for x in m.members.all()]} for m in membership],
            "restrictions": [{"weekdays": r.weekdays, "start": r.start_time.strftime("%H:%M"), "end": r.end_time.strftime("%H:%M")}
                             for r in layer.restrictions.all()],
        }

    @staticmethod
    def spec(data: dict) -> LayerSpec:
        return LayerSpec(
            name=data["name"], rotation=data["rotation"], every=data["every"], handoff_time=data["handoff_time"],
            handoff_weekday=data["handoff_weekday"], weekdays_only=data["weekdays_only"], starts_on=data["starts_on"],
            ends_at=data.get("ends_at"), participants=[(p["user"], p["turns"]) for p in data["participants"]],
            restrictions=[RestrictionSpec(r["weekdays"], r["start"], r["end"]) for r in data.get("restrictions", [])],
        )


class ScheduleSerializer(PortalModelSerializer):
    layers = LayerSerializer(many=True, required=False)
    ical_url = serializers.SerializerMethodField()

    class Meta:
        model = Schedule
        fields = ["id", "name", "description", "time_zone", "layers", "ical_url", "version", "archived_at"]
        read_only_fields = ["version", "archived_at"]
        extra_kwargs = {"time_zone": {"validators": []}, "name": {"validators": []}}  # the service reports these

    def get_ical_url(self, schedule) -> str | None:
        """The secret feed address, for those who manage the schedule (null for others)."""
        request = self.context.get("request")
        if request is None or not may_read_secret(request.user, schedule):
            return None
        return settings.SITE_URL + reverse("oncall:ical_schedule", args=[schedule.ical_token])


class OverrideSerializer(PortalModelSerializer):
    schedule = serializers.PrimaryKeyRelatedField(queryset=Schedule.objects.filter(archived_at__isnull=True))
    layer = serializers.PrimaryKeyRelatedField(queryset=Layer.objects.all(), required=False, allow_null=True)
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
    replaces = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Override
        fields = ["id", "schedule", "layer", "user", "replaces", "start", "end", "reason", "created_at"]
        read_only_fields = ["created_at"]


class TargetSerializer(PortalSerializer):
    kind = serializers.ChoiceField(choices=TargetKind.choices)
    id = serializers.IntegerField()
    label = serializers.CharField(read_only=True)
    inform = serializers.BooleanField(default=False, help_text="Inform only: told when the level fires, never paged "
                                                                 "(no acknowledgement asked, no phone ring).")


class LevelSerializer(PortalSerializer):
    condition = serializers.ChoiceField(choices=EscalationLevel._meta.get_field("condition").choices, default="acknowledged")
    delay_seconds = serializers.IntegerField(min_value=0, default=0)
    severities = serializers.ListField(child=serializers.CharField(), default=list)
    mode = serializers.ChoiceField(choices=EscalationLevel._meta.get_field("mode").choices, default="all")
    round_robin_seconds = serializers.IntegerField(min_value=1, default=300)
    targets = TargetSerializer(many=True)

    def to_representation(self, level):
        return {
            "condition": level.condition, "delay_seconds": level.delay_seconds, "severities": [s.key for s in level.severities.all()],
            "mode": level.mode, "round_robin_seconds": level.round_robin_seconds,
            "targets": [{"kind": t.kind, "id": (t.schedule_id or t.layer_id or t.user_id or t.group_id), "label": str(
                t.schedule or t.layer or t.user or t.group), "inform": t.inform} for t in level.targets.all()],
        }

    @staticmethod
    def spec(data: dict) -> LevelSpec:
        return LevelSpec(targets=[(t["kind"], t["id"]) for t in data["targets"] if not t.get("inform")],
                         inform=[(t["kind"], t["id"]) for t in data["targets"] if t.get("inform")],
                         delay_seconds=data["delay_seconds"], condition=data["condition"], severities=data["severities"],
                         mode=data["mode"], round_robin_seconds=data["round_robin_seconds"])


class EscalationPolicySerializer(PortalModelSerializer):
    levels = LevelSerializer(many=True)
    services = serializers.SlugRelatedField(slug_field="slug", queryset=Service.active.all(), many=True, required=False)
    integrations = serializers.SlugRelatedField(
        slug_field="public_id", queryset=Integration.objects.filter(archived_at__isnull=True), many=True, required=False,
        help_text="Integrations (by id) whose alert-opened incidents start this policy instead of their service's.")
    incident_types = serializers.SlugRelatedField(
        slug_field="key", queryset=IncidentType.objects.all(), many=True, required=False,
        help_text="Incident types (by key) whose incidents start this policy in addition to their services'.")

    class Meta:
        model = EscalationPolicy
        fields = ["id", "name", "description", "repeat", "repeat_after_seconds", "levels", "services", "integrations",
                  "incident_types"]
        extra_kwargs = {"name": {"validators": []}}

    def to_representation(self, policy):
        data = super().to_representation(policy)
        data["services"] = [link.service.slug for link in policy.service_links.all()]
        data["integrations"] = [str(link.integration.public_id) for link in policy.integration_links.all()]
        data["incident_types"] = [link.incident_type.key for link in policy.type_links.all()]
        return data
