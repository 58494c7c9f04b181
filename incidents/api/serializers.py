from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework import serializers

from incidents.bounded import PortalModelSerializer, PortalSerializer

from ..models import (
    Incident,
    IncidentLink,
    IncidentStatus,
    IncidentType,
    IncidentTypeChecklistItem,
    LinkKind,
    MetricTargets,
    Role,
    Service,
    Severity,
    StatusUpdate,
    TimelineEvent,
    Visibility,
)

User = get_user_model()


class UserField(serializers.SlugRelatedField):
    """A user by username; only active users can be chosen."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "username")
        kwargs.setdefault("queryset", User.objects.filter(is_active=True))
        super().__init__(**kwargs)


class SeveritySerializer(PortalModelSerializer):
    checklist = serializers.SlugRelatedField(source="checklist_items", slug_field="text", many=True, read_only=True)

    class Meta:
        model = Severity
        fields = [
            "key", "label", "description", "rank", "colour", "ack_target", "update_policy", "update_cadence",
            "mtta_target", "mttr_target", "postmortem_required", "postmortem_due", "war_room_pattern", "war_room_auto", "urgency",
            "first_notice_within", "postmortem_meeting_within", "is_active", "checklist",
        ]


class MetricTargetsSerializer(PortalModelSerializer):
    class Meta:
        model = MetricTargets
        fields = ["mttk_target", "mtti_target", "mtbf_target", "false_positive_rate_target", "updated_at"]
        read_only_fields = ["updated_at"]


class TypeChecklistItemSerializer(PortalModelSerializer):
    class Meta:
        model = IncidentTypeChecklistItem
        fields = ["text", "owner_role", "position"]


class IncidentTypeSerializer(PortalModelSerializer):
    default_severity = serializers.SlugRelatedField(
        slug_field="key", queryset=Severity.objects.all(), allow_null=True, required=False)
    required_roles = serializers.ListField(
        child=serializers.ChoiceField(choices=[c for c in Role.choices if c[0] != Role.RESPONDER]), required=False,
        max_length=len(Role.values))
    checklist = TypeChecklistItemSerializer(source="checklist_items", many=True, required=False,
                                            help_text="Replaces the type's playbook lines when given.")
    access_groups = serializers.SlugRelatedField(
        slug_field="name", queryset=Group.objects.all(), many=True, required=False,
        help_text="Groups that may read its incidents while restricted (e.g. Security, Legal).")

    class Meta:
        model = IncidentType
        fields = ["key", "name", "description", "default_severity", "public", "postmortem_required", "is_drill",
                  "restricted", "access_groups", "required_roles", "position", "is_active", "checklist"]

    def validate(self, attrs):
        is_drill = attrs.get("is_drill", getattr(self.instance, "is_drill", False))
        restricted = attrs.get("restricted", getattr(self.instance, "restricted", False))
        public = attrs.get("public", getattr(self.instance, "public", True))
        if (is_drill or restricted) and public:
            if "public" in attrs:
                what = "A drill" if is_drill else "A restricted type"
                raise serializers.ValidationError({"public": f"{what} never appears on the status page."})
            attrs["public"] = False
        return attrs


class ServiceSerializer(PortalModelSerializer):
    class Meta:
        model = Service
        fields = ["slug", "name", "description", "team", "runbook_url", "created_at", "archived_at"]
        read_only_fields = ["created_at", "archived_at"]


class MemberSerializer(PortalSerializer):
    role = serializers.CharField()
    user = serializers.CharField(source="user.username")
    name = serializers.SerializerMethodField()

    def get_name(self, member) -> str:
        return member.user.get_full_name() or member.user.username


class IncidentLinkSerializer(PortalModelSerializer):
    added_by = serializers.CharField(source="added_by.username", read_only=True, default=None)

    class Meta:
        model = IncidentLink
        fields = ["id", "kind", "title", "url", "added_at", "added_by"]
        read_only_fields = ["id", "added_at"]


class IncidentLinkCreateSerializer(PortalSerializer):
    kind = serializers.ChoiceField(choices=LinkKind.choices, default=LinkKind.OTHER)
    title = serializers.CharField(max_length=200)
    url = serializers.CharField(max_length=1000, help_text="An http(s) link.")


class WarRoomSerializer(PortalSerializer):
    url = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="",
        help_text="The bridge's link; empty: started from the severity's pattern.")


class VisibleIncidentField(serializers.SlugRelatedField):
    """An incident by its number, among those the requesting user may see: a restricted one
    they may not see "does not exist" (the serializer needs the request in its context)."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="number", queryset=Incident.objects.all(), **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return Incident.objects.visible_to(request.user if request is not None else None)


class IncidentSerializer(PortalModelSerializer):
    id = serializers.CharField(source="number", read_only=True)
    severity = serializers.SlugRelatedField(
        slug_field="key", queryset=Severity.objects.filter(is_active=True), required=False,
        help_text="Required unless the type has a default severity.")
    type = serializers.SlugRelatedField(
        slug_field="key", queryset=IncidentType.objects.filter(is_active=True), required=False, allow_null=True,
        help_text="The incident type's key (change it later with POST …/type/).")
    is_drill = serializers.BooleanField(read_only=True)
    services = serializers.SlugRelatedField(slug_field="slug", queryset=Service.active.all(), many=True, required=False)
    members = MemberSerializer(many=True, read_only=True)
    declared_by = serializers.CharField(source="declared_by.username", read_only=True, default=None)
    acknowledged_by = serializers.CharField(source="acknowledged_by.username", read_only=True, default=None)
    resolved_by = serializers.CharField(source="resolved_by.username", read_only=True, default=None)
    commander = UserField(write_only=True, required=False, help_text="Username of the incident commander.")
    links = IncidentLinkSerializer(many=True, read_only=True)
    missing_roles = serializers.SerializerMethodField(help_text="Roles the incident's type requires that nobody holds yet.")
    restricted = serializers.BooleanField(
        required=False, default=False,
        help_text="Only its responders and `access_groups` can see it (a restricted type always restricts).")
    access_groups = serializers.SlugRelatedField(
        slug_field="name", queryset=Group.objects.all(), many=True, required=False,
        help_text="Group names that may read it while it is restricted (e.g. Security, Legal).")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "id", "url", "title", "summary", "impact", "severity", "type", "is_drill", "services", "status", "detection_source",
            "declared_at", "declared_by", "started_at", "acknowledged_at", "acknowledged_by", "identified_at",
            "mitigated_at", "resolved_at", "resolved_by", "resolution_summary", "false_positive",
            "root_cause_tag", "members", "missing_roles", "commander", "war_room_url", "links", "restricted", "access_groups",
            "version", "updated_at",
        ]
        read_only_fields = [
            "status", "declared_at", "acknowledged_at", "identified_at", "mitigated_at", "resolved_at",
            "resolution_summary", "false_positive", "root_cause_tag", "war_room_url", "version", "updated_at",
        ]
        extra_kwargs = {"started_at": {"required": False, "help_text": "When impact began; defaults to now."}}

    def get_missing_roles(self, incident) -> list[str]:
        if incident.type_id is None:
            return []
        held = {m.role for m in incident.members.all()}
        return [r for r in incident.type.required_roles if r not in held]

    def get_url(self, incident) -> str:
        request = self.context.get("request")
        path = incident.get_absolute_url()
        return request.build_absolute_uri(path) if request else path


class IncidentUpdateSerializer(PortalSerializer):
    title = serializers.CharField(max_length=200, required=False)
    summary = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    impact = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    services = serializers.SlugRelatedField(slug_field="slug", queryset=Service.objects.all(), many=True, required=False)
    started_at = serializers.DateTimeField(required=False, help_text="When impact began (not after the declaration).")


class IncidentRestrictionSerializer(PortalSerializer):
    restricted = serializers.BooleanField()
    access_groups = serializers.SlugRelatedField(slug_field="name", queryset=Group.objects.all(), many=True, required=False)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class StatusChangeSerializer(PortalSerializer):
    status = serializers.ChoiceField(choices=IncidentStatus.choices)
    message = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="")


class SeverityChangeSerializer(PortalSerializer):
    severity = serializers.SlugRelatedField(slug_field="key", queryset=Severity.objects.filter(is_active=True))
    reason = serializers.CharField(max_length=2_000, required=False, allow_blank=True, default="")


class TypeChangeSerializer(PortalSerializer):
    type = serializers.SlugRelatedField(slug_field="key", queryset=IncidentType.objects.filter(is_active=True), allow_null=True)
    reason = serializers.CharField(max_length=2_000, required=False, allow_blank=True, default="")


class RoleAssignSerializer(PortalSerializer):
    role = serializers.ChoiceField(choices=Role.choices)
    user = UserField(allow_null=True, help_text="Username; null removes the role's holder.")


class ResponderSerializer(PortalSerializer):
    user = UserField()


class NoteSerializer(PortalSerializer):
    body = serializers.CharField(max_length=20_000)
    occurred_at = serializers.DateTimeField(required=False, help_text="Backdate the note (not in the future).")


class StatusUpdateCreateSerializer(PortalSerializer):
    body = serializers.CharField(max_length=20_000, help_text="Markdown.")
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.INTERNAL)
    status = serializers.ChoiceField(choices=IncidentStatus.choices, required=False)


class ResolveSerializer(PortalSerializer):
    summary = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="")
    false_positive = serializers.BooleanField(default=False)
    root_cause_tag = serializers.SlugField(max_length=60, required=False, allow_blank=True, default="")


class ReopenSerializer(PortalSerializer):
    reason = serializers.CharField(max_length=2_000, required=False, allow_blank=True, default="")


class TimelineEventSerializer(PortalModelSerializer):
    actor = serializers.CharField(source="actor_name", read_only=True)

    class Meta:
        model = TimelineEvent
        fields = ["id", "kind", "occurred_at", "created_at", "actor", "message", "data"]


class StatusUpdateSerializer(PortalModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True, default=None)

    class Meta:
        model = StatusUpdate
        fields = ["id", "status", "visibility", "body", "created_at", "author"]


