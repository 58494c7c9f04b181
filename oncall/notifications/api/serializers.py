from rest_framework import serializers

from delivery.models import Delivery
from incidents.bounded import PortalModelSerializer
from incidents.models import Severity
from incidents.rules import may_read_secret

from ..models import ChannelKind, ContactMethod, Frequency, NotificationRule, StakeholderSubscription
from ..selectors import PAGING, STAKEHOLDERS


class NotificationRuleSerializer(PortalModelSerializer):
    contact_method = serializers.SlugRelatedField(slug_field="public_id", queryset=ContactMethod.objects.all())

    class Meta:
        model = NotificationRule
        fields = ["id", "contact_method", "delay_minutes", "urgency"]


class ContactMethodSerializer(PortalModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    secret = serializers.CharField(read_only=True, help_text="Verifies generic webhook signatures (Standard Webhooks).")
    rules = serializers.SerializerMethodField()

    class Meta:
        model = ContactMethod
        fields = ["id", "kind", "label", "target", "is_active", "rate_limit_count", "rate_limit_window", "secret", "rules", "created_at"]
        read_only_fields = ["created_at"]

    def get_rules(self, method) -> list[int]:
        return sorted(rule.delay_minutes for rule in method.rules.all())


class NotificationSerializer(PortalModelSerializer):
    """A delivery (`delivery.Delivery`, any purpose). `contact_method` (paging) and
    `subscription` (stakeholders) name the purpose's destination, as before the delivery layer."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    incident = serializers.SlugRelatedField(slug_field="number", read_only=True)
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    contact_method = serializers.SerializerMethodField()
    subscription = serializers.SerializerMethodField()
    title = serializers.CharField(read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id", "purpose", "kind", "incident", "user", "contact_method", "subscription", "channel", "target", "title",
            "dedup_key", "step", "status", "due_at", "attempts", "max_attempts", "sent_at", "response_code", "error", "created_at",
        ]
        read_only_fields = fields

    def get_contact_method(self, row) -> str | None:
        if row.purpose != PAGING:
            return None
        if hasattr(row, "contact_method_public_id"):  # lists: annotated by selectors.notification_queryset
            public_id = row.contact_method_public_id
        else:  # one row just made (a test send)
            public_id = ContactMethod.objects.filter(pk=row.destination_id).values_list("public_id", flat=True).first()
        return str(public_id) if public_id else None

    def get_subscription(self, row) -> int | None:
        if row.purpose != STAKEHOLDERS:
            return None
        if hasattr(row, "subscription_name"):
            return row.destination_id if row.subscription_name is not None else None
        return row.destination_id if StakeholderSubscription.objects.filter(pk=row.destination_id).exists() else None


class StakeholderSubscriptionSerializer(PortalModelSerializer):
    severities = serializers.SlugRelatedField(slug_field="key", many=True, queryset=Severity.objects.all(), required=False)
    frequency = serializers.ChoiceField(choices=Frequency.choices, default=Frequency.REALTIME)
    target = serializers.CharField(
        max_length=2000, help_text="Webhook URL or email addresses. Read in full only by those who may change subscriptions; "
                                   "others get it masked (`https://hooks.slack.com/services/T0…/…XyZ`).")

    class Meta:
        model = StakeholderSubscription
        fields = ["id", "name", "kind", "target", "severities", "frequency", "include_drills", "is_active", "created_at"]
        read_only_fields = ["created_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not may_read_secret(request.user, instance):
            data["target"] = instance.display_target
        return data
