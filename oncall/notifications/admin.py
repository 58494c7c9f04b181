from django.contrib import admin, messages

from delivery.models import Delivery, DeliveryStatus
from incidents.bounded import PortalAdmin, PortalModelForm, PortalTabularInline
from incidents.exceptions import InvalidInput

from . import services
from .models import ContactMethod, NotificationRule, StakeholderSubscription, UpdateReminder


class NotificationRuleInline(PortalTabularInline):
    model = NotificationRule
    extra = 0
    fields = ["user", "delay_minutes"]
    readonly_fields = ["user"]


class TargetCheckedForm(PortalModelForm):
    """Runs the same target validation (address syntax, URL guard) as the pages and the API."""

    def clean(self):
        data = super().clean()
        if data.get("kind") and data.get("target"):
            try:
                data["target"] = services.validate_target(data["kind"], data["target"])
            except InvalidInput as exc:
                self.add_error("target", exc.message)
        return data


@admin.register(ContactMethod)
class ContactMethodAdmin(PortalAdmin):
    form = TargetCheckedForm
    list_display = ["user", "kind", "label", "display_target", "is_active", "failing_since", "rate_limit_count", "rate_limit_window",
                    "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["user__username", "user__email", "label", "target"]
    readonly_fields = ["public_id", "secret", "failing_since", "last_error", "created_at"]
    inlines = [NotificationRuleInline]
    actions = ["send_test"]

    def save_formset(self, request, form, formset, change):
        for instance in formset.save(commit=False):
            instance.user = form.instance.user
            instance.contact_method = form.instance
            instance.save()
        for obj in formset.deleted_objects:
            obj.delete()

    @admin.action(description="Send a test notification")
    def send_test(self, request, queryset):
        for method in queryset:
            services.contact_method_send_test(method=method, by=request.user)
        self.message_user(request, f"Queued {queryset.count()} test notification(s).", messages.SUCCESS)


@admin.register(NotificationRule)
class NotificationRuleAdmin(PortalAdmin):
    list_display = ["user", "contact_method", "delay_minutes"]
    search_fields = ["user__username"]
    list_select_related = ["user", "contact_method"]


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
class StakeholderSubscriptionAdmin(PortalAdmin):
    form = TargetCheckedForm
    list_display = ["name", "kind", "display_target", "frequency", "is_active"]
    list_filter = ["kind", "frequency", "is_active"]
    filter_horizontal = ["severities"]
    readonly_fields = ["secret", "created_by", "created_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(UpdateReminder)
class UpdateReminderAdmin(PortalAdmin):
    list_display = ["incident", "status", "due_at", "sequence"]
    list_filter = ["status"]
    list_select_related = ["incident"]
    readonly_fields = ["incident", "sequence", "updated_at"]
