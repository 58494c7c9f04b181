from django.contrib import admin, messages

from delivery.models import Delivery, DeliveryStatus
from incidents.admin import RecordAdmin, WritesThroughServices
from incidents.bounded import PortalAdmin, PortalTabularInline

from . import services
from .models import ContactMethod, NotificationRule, ReplyCode, StakeholderSubscription, UpdateReminder


class NotificationRuleInline(PortalTabularInline):
    model = NotificationRule
    extra = 0
    fields = ["user", "delay_minutes"]
    readonly_fields = ["user"]


@admin.register(ContactMethod)
class ContactMethodAdmin(WritesThroughServices, PortalAdmin):
    """Contact methods through their services: the target check (address syntax, URL guard),
    the "at once" rule a new method gets, and the entry on its person's change log."""

    list_display = ["user", "kind", "label", "display_target", "is_active", "failing_since", "rate_limit_count", "rate_limit_window", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["user__username", "user__email", "label", "target"]
    readonly_fields = ["public_id", "secret", "failing_since", "last_error", "created_at"]
    inlines = [NotificationRuleInline]
    actions = ["send_test"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "user"] if obj is not None else self.readonly_fields  # a method stays its person's

    def create(self, request, form):
        data = form.cleaned_data
        method = services.contact_method_create(
            user=data["user"], kind=data["kind"], target=data["target"], label=data.get("label", ""), is_active=data.get("is_active", True),
            rate_limit_count=data.get("rate_limit_count"), rate_limit_window=data.get("rate_limit_window"), by=request.user,
        )
        request._default_rule_for = method.pk
        return method

    def update(self, request, obj, changes):
        services.contact_method_update(method=obj, by=request.user, **changes)

    def delete(self, request, obj):
        services.contact_method_delete(method=obj, by=request.user)

    def inline_notificationrule_create(self, request, method, rule):
        if (getattr(request, "_default_rule_for", None) == method.pk
                and method.rules.filter(delay_minutes=rule.delay_minutes, urgency=rule.urgency).exists()):
            return  # the rule the new method was just given
        services.notification_rule_create(user=method.user, contact_method=method, delay_minutes=rule.delay_minutes,
                                          urgency=rule.urgency, by=request.user)

    def inline_notificationrule_update(self, request, method, rule, changes):
        services.notification_rule_update(rule=rule, delay_minutes=changes.get("delay_minutes"), urgency=changes.get("urgency"),
                                          by=request.user)

    def inline_notificationrule_delete(self, request, method, rule):
        services.notification_rule_delete(rule=rule, by=request.user)

    @admin.action(description="Send a test notification")
    def send_test(self, request, queryset):
        for method in queryset:
            services.contact_method_send_test(method=method, by=request.user)
        self.message_user(request, f"Queued {queryset.count()} test notification(s).", messages.SUCCESS)


@admin.register(NotificationRule)
class NotificationRuleAdmin(WritesThroughServices, PortalAdmin):
    list_display = ["user", "contact_method", "urgency", "delay_minutes"]
    list_filter = ["urgency"]
    search_fields = ["user__username"]
    list_select_related = ["user", "contact_method"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "contact_method"] if obj is not None else []

    def create(self, request, form):
        data = form.cleaned_data
        return services.notification_rule_create(user=data["user"], contact_method=data["contact_method"],
                                                 delay_minutes=data["delay_minutes"], urgency=data["urgency"], by=request.user)

    def update(self, request, obj, changes):
        services.notification_rule_update(rule=obj, delay_minutes=changes.get("delay_minutes"), urgency=changes.get("urgency"),
                                          by=request.user)

    def delete(self, request, obj):
        services.notification_rule_delete(rule=obj, by=request.user)


@admin.register(Delivery)
class DeliveryAdmin(PortalAdmin):
    """Every delivery of the one delivery layer (pages, stakeholder messages and the other
    apps' purposes), read only; failed rows can be queued again."""

    list_display = ["created_at", "status", "purpose", "kind", "channel", "user", "target", "title", "incident", "attempts", "error"]
    list_filter = ["status", "purpose", "channel", "kind"]
    search_fields = ["dedup_key", "user__username", "incident__number", "error", "target"]
    list_select_related = ["user", "incident"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    date_hierarchy = "created_at"
    actions = ["retry_now"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Retry failed deliveries now")
    def retry_now(self, request, queryset):
        pks = list(queryset.filter(status=DeliveryStatus.FAILED).values_list("pk", flat=True))
        n = services.notifications_retry(pks)
        self.message_user(request, f"{n} delivery(ies) queued again.", messages.SUCCESS)


@admin.register(StakeholderSubscription)
class StakeholderSubscriptionAdmin(WritesThroughServices, PortalAdmin):
    list_display = ["name", "kind", "display_target", "frequency", "include_drills", "is_active"]
    list_filter = ["kind", "frequency", "include_drills", "is_active"]
    filter_horizontal = ["severities"]
    readonly_fields = ["secret", "created_by", "created_at"]

    def create(self, request, form):
        data = form.cleaned_data
        return services.subscription_create(by=request.user, **{f: data[f] for f in services.SUBSCRIPTION_FIELDS if f in data})

    def update(self, request, obj, changes):
        services.subscription_update(subscription=obj, by=request.user, **changes)

    def delete(self, request, obj):
        services.subscription_delete(subscription=obj, by=request.user)


@admin.register(UpdateReminder)
class UpdateReminderAdmin(RecordAdmin):
    """The next update reminder of each open incident: a due row the reminders' sweep writes and
    recomputes after every status update (notifications.reminders), so nothing is edited by hand;
    shown for support."""

    keeps_history = True
    list_display = ["incident", "status", "due_at", "sequence"]
    list_filter = ["status"]
    list_select_related = ["incident"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ReplyCode)
class ReplyCodeAdmin(RecordAdmin):
    """The short codes an SMS page carries ("Reply 4 17 to acknowledge"): written when the page
    goes out, read when the reply comes in; shown here for support only."""

    keeps_history = True
    list_display = ["created_at", "contact_method", "code", "incident", "delivery_id"]
    list_select_related = ["contact_method", "incident"]
