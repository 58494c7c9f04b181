from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework import serializers

from incidents.api.serializers import VisibleIncidentField
from incidents.bounded import PortalModelSerializer, PortalSerializer
from incidents.integrations.models import Runbook
from incidents.markdown import render_markdown
from incidents.models import Severity

from ..models import (
    ActionCategory,
    ActionItem,
    ActionPriority,
    ActionStatus,
    GameDay,
    GameDayOutcome,
    Postmortem,
    PostmortemSection,
    PostmortemTemplate,
)

User = get_user_model()


class AnyUserField(serializers.SlugRelatedField):
    """A user by username, active or not: the service refuses inactive users with a clear error."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "username")
        kwargs.setdefault("queryset", User.objects.all())
        super().__init__(**kwargs)


class SectionSerializer(PortalModelSerializer):
    html = serializers.SerializerMethodField()

    class Meta:
        model = PostmortemSection
        fields = ["key", "title", "group", "required", "guidance", "body", "html"]

    def get_html(self, section) -> str:
        return str(render_markdown(section.body))


class ActionItemSerializer(PortalModelSerializer):
    incident = VisibleIncidentField()
    owner = AnyUserField(required=False, allow_null=True)
    postmortem = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = ActionItem
        fields = [
            "id", "incident", "postmortem", "title", "description", "owner", "due_date", "category", "priority", "status",
            "ticket_url", "overdue", "created_at", "completed_at", "updated_at",
        ]
        read_only_fields = ["status", "created_at", "completed_at", "updated_at"]

    def get_postmortem(self, item) -> str | None:
        return item.incident.number if item.postmortem_id else None

    def get_overdue(self, item) -> bool:
        return bool(item.is_open and item.due_date and item.due_date < timezone.localdate())

    def validate(self, attrs):  # the service validates the rules; this only shapes the input
        return attrs


class ActionItemUpdateSerializer(PortalSerializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    owner = AnyUserField(required=False, allow_null=True)
    due_date = serializers.DateField(required=False, allow_null=True)
    category = serializers.ChoiceField(choices=ActionCategory.choices, required=False)
    priority = serializers.ChoiceField(choices=ActionPriority.choices, required=False)
    status = serializers.ChoiceField(choices=ActionStatus.choices, required=False)
    ticket_url = serializers.URLField(required=False, allow_blank=True, max_length=500)


class PostmortemSerializer(PortalModelSerializer):
    id = serializers.CharField(source="incident.number", read_only=True)
    incident = serializers.CharField(source="incident.number", read_only=True)
    template = serializers.SlugRelatedField(slug_field="name", read_only=True)
    owner = serializers.CharField(source="owner.username", read_only=True, default=None)
    reviewers = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    published_by = serializers.CharField(source="published_by.username", read_only=True, default=None)
    sections = SectionSerializer(many=True, read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Postmortem
        fields = [
            "id", "incident", "title", "status", "template", "owner", "due_at", "reviewers", "review_meeting_at", "review_meeting_place",
            "public_summary", "automatic", "created_at", "submitted_at", "published_at", "published_by", "sections", "url",
        ]

    def get_url(self, pm) -> str:
        return f"{settings.SITE_URL}{pm.get_absolute_url()}"


class PostmortemCreateSerializer(PortalSerializer):
    incident = VisibleIncidentField()
    template = serializers.SlugRelatedField(slug_field="name", queryset=PostmortemTemplate.objects.all(), required=False)
    owner = AnyUserField(required=False, allow_null=True)
    due_at = serializers.DateTimeField(required=False)
    reviewers = AnyUserField(many=True, required=False)


class PostmortemUpdateSerializer(PortalSerializer):
    title = serializers.CharField(max_length=200, required=False)
    owner = AnyUserField(required=False, allow_null=True)
    due_at = serializers.DateTimeField(required=False)
    reviewers = AnyUserField(many=True, required=False)
    review_meeting_at = serializers.DateTimeField(required=False, allow_null=True)
    review_meeting_place = serializers.CharField(required=False, allow_blank=True, max_length=200)
    public_summary = serializers.CharField(required=False, allow_blank=True, max_length=5_000)
    sections = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=50_000), required=False,
                                     help_text="Section key -> Markdown body.")


class PublishSerializer(PortalSerializer):
    public_summary = serializers.CharField(required=False, allow_blank=True, max_length=5_000)


class SeverityMetricsSerializer(PortalSerializer):
    severity = serializers.CharField()
    label = serializers.CharField()
    incidents = serializers.IntegerField()
    false_positives = serializers.IntegerField()
    open = serializers.IntegerField()
    mttk_seconds = serializers.FloatField(allow_null=True, help_text="Mean time to know: start of impact to declaration.")
    mtta_seconds = serializers.FloatField(allow_null=True)
    mtti_seconds = serializers.FloatField(allow_null=True)
    mttm_seconds = serializers.FloatField(allow_null=True)
    mttr_seconds = serializers.FloatField(allow_null=True)
    mtta_target_seconds = serializers.FloatField(allow_null=True)
    mttr_target_seconds = serializers.FloatField(allow_null=True)
    mtta_within_target = serializers.BooleanField(allow_null=True)
    mttr_within_target = serializers.BooleanField(allow_null=True)


class RangeSerializer(PortalSerializer):
    since = serializers.DateField()
    until = serializers.DateField()
    rule = serializers.CharField(help_text="Which incidents count: those declared in the range; durations in full.")


class MtbfSerializer(PortalSerializer):
    service = serializers.CharField()
    incidents = serializers.IntegerField()
    mtbf_seconds = serializers.FloatField(allow_null=True)
    mtbf_within_target = serializers.BooleanField(allow_null=True)


class DetectionSourceSerializer(PortalSerializer):
    source = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True)


class DetectionSerializer(PortalSerializer):
    sources = DetectionSourceSerializer(many=True)
    alert_share = serializers.FloatField(allow_null=True)
    alert_target = serializers.FloatField()


class FalsePositiveSerializer(PortalSerializer):
    count = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, help_text="False positives / resolved incidents.")


class RepeatGroupSerializer(PortalSerializer):
    service = serializers.CharField()
    root_cause_tag = serializers.CharField()
    incidents = serializers.IntegerField()


class RepeatSerializer(PortalSerializer):
    count = serializers.IntegerField(help_text="Incidents beyond the first in each (service, root-cause tag) group.")
    groups = RepeatGroupSerializer(many=True)


class ActionItemCountsSerializer(PortalSerializer):
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    wont_do = serializers.IntegerField()


class PostmortemCountsSerializer(PortalSerializer):
    total = serializers.IntegerField()
    published = serializers.IntegerField()
    on_time = serializers.IntegerField()
    late = serializers.IntegerField()
    overdue = serializers.IntegerField()
    pending = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True, help_text="On time / (published + overdue unpublished).")


class MetricTargetVerdictSerializer(PortalSerializer):
    target = serializers.FloatField(allow_null=True)
    met = serializers.BooleanField(allow_null=True)


class MetricsSerializer(PortalSerializer):
    range = RangeSerializer()
    incidents = serializers.IntegerField()
    resolved = serializers.IntegerField()
    restricted_not_shown = serializers.IntegerField(
        allow_null=True, help_text="Restricted incidents of the range left out for you (null: the policy does not say).")
    overall = SeverityMetricsSerializer()
    by_severity = SeverityMetricsSerializer(many=True)
    weeks = serializers.ListField(child=serializers.DateField(), help_text="Mondays of the weeks in the range.")
    weekly_by_severity = serializers.DictField(child=serializers.ListField(child=serializers.IntegerField()),
                                               help_text="Severity key -> counts, one per entry of `weeks`.")
    weekly_by_service = serializers.DictField(child=serializers.ListField(child=serializers.IntegerField()),
                                              help_text="Service name -> counts, one per entry of `weeks`.")
    mtbf_by_service = MtbfSerializer(many=True)
    detection = DetectionSerializer()
    false_positives = FalsePositiveSerializer()
    repeat_incidents = RepeatSerializer()
    action_items = ActionItemCountsSerializer()
    postmortems = PostmortemCountsSerializer()
    targets = serializers.DictField(
        child=MetricTargetVerdictSerializer(),
        help_text="mttk, mtti, mtbf (seconds) and false_positive_rate (a ratio): the target (null: none set) and whether "
                  "the range met it (null: no figure or no target). MTTK, MTTI and the rate are met at or below, MTBF at or above.")



# --- game days ----------------------------------------------------------------------------------


class GameDaySerializer(PortalModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    runbook = serializers.SlugRelatedField(slug_field="identifier", read_only=True)
    severity = serializers.SlugRelatedField(slug_field="key", read_only=True)
    facilitator = serializers.CharField(source="facilitator.username", read_only=True, default=None)
    participants = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    incidents = serializers.SlugRelatedField(slug_field="number", many=True, read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = GameDay
        fields = [
            "id", "title", "scenario", "starts_at", "ends_at", "time_zone", "runbook", "runbook_url", "severity", "facilitator",
            "participants", "status", "incidents", "learnt", "outcome", "started_at", "completed_at", "cancelled_at",
            "cancel_reason", "created_at", "url",
        ]

    def get_url(self, game_day) -> str:
        return f"{settings.SITE_URL}{game_day.get_absolute_url()}"


class GameDayWriteSerializer(PortalSerializer):
    """Shapes the input; the rules (times, zone, links, active people) are the service's."""

    title = serializers.CharField(max_length=200)
    scenario = serializers.CharField(max_length=20_000)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    time_zone = serializers.CharField(max_length=64, required=False)
    runbook = serializers.SlugRelatedField(slug_field="identifier", queryset=Runbook.objects.all(), required=False, allow_null=True)
    runbook_url = serializers.CharField(max_length=500, required=False, allow_blank=True)
    severity = serializers.SlugRelatedField(slug_field="key", queryset=Severity.objects.all(), required=False, allow_null=True)
    facilitator = AnyUserField(required=False, allow_null=True)
    participants = AnyUserField(many=True, required=False)


class GameDayActionItemSerializer(PortalSerializer):
    title = serializers.CharField(max_length=200)
    owner = AnyUserField(required=False, allow_null=True)
    due_date = serializers.DateField(required=False, allow_null=True)
    category = serializers.ChoiceField(choices=ActionCategory.choices, required=False)


class GameDayResultsSerializer(PortalSerializer):
    learnt = serializers.CharField(max_length=20_000)
    outcome = serializers.ChoiceField(choices=GameDayOutcome.choices)
    action_items = GameDayActionItemSerializer(many=True, required=False, max_length=50)


class GameDayCancelSerializer(PortalSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class GameDayStartSerializer(PortalSerializer):
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text="The drill's title (default: the game day's).")
