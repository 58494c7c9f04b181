from django.contrib import admin, messages

from incidents.admin import HTTPS_URLS
from incidents.bounded import PortalAdmin, PortalStackedInline, PortalTabularInline
from incidents.exceptions import DomainError

from . import services
from .models import (
    ActionItem,
    EmailAttempt,
    Postmortem,
    PostmortemSection,
    PostmortemTemplate,
    Reminder,
    SeverityTemplate,
    TemplateSection,
)


class TemplateSectionInline(PortalTabularInline):
    model = TemplateSection
    extra = 1
    fields = ["position", "key", "title", "group", "required", "prefill", "guidance"]
    prepopulated_fields = {"key": ["title"]}


class SeverityTemplateInline(PortalTabularInline):
    model = SeverityTemplate
    extra = 1
    verbose_name = "used for severity"
    verbose_name_plural = "used for severities"


@admin.register(PostmortemTemplate)
class PostmortemTemplateAdmin(PortalAdmin):
    list_display = ["name", "is_default", "created_at"]
    search_fields = ["name", "description"]
    inlines = [TemplateSectionInline, SeverityTemplateInline]


@admin.register(SeverityTemplate)
class SeverityTemplateAdmin(PortalAdmin):
    list_display = ["severity", "template"]


class PostmortemSectionInline(PortalStackedInline):
    model = PostmortemSection
    extra = 0
    fields = ["position", "key", "title", "group", "required", "body"]


class ActionItemInline(PortalTabularInline):
    formfield_overrides = HTTPS_URLS
    model = ActionItem
    extra = 0
    fields = ["title", "owner", "due_date", "category", "priority", "status", "ticket_url"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Postmortem)
class PostmortemAdmin(PortalAdmin):
    list_display = ["incident", "title", "status", "owner", "due_at", "published_at", "automatic"]
    list_filter = ["status", "automatic", "template"]
    search_fields = ["incident__number", "title"]
    raw_id_fields = ["incident"]
    filter_horizontal = ["reviewers"]
    readonly_fields = ["status", "submitted_at", "published_at", "published_by", "created_at", "created_by", "automatic"]
    inlines = [PostmortemSectionInline, ActionItemInline]
    actions = ["publish"]

    @admin.action(description="Publish the selected postmortems (in review only)", permissions=["change"])
    def publish(self, request, queryset):
        for postmortem in queryset:
            try:
                services.postmortem_publish(postmortem=postmortem, by=request.user)
            except DomainError as exc:
                self.message_user(request, f"{postmortem}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{postmortem} published.", messages.SUCCESS)


@admin.register(ActionItem)
class ActionItemAdmin(PortalAdmin):
    formfield_overrides = HTTPS_URLS
    list_display = ["title", "incident", "owner", "due_date", "category", "priority", "status"]
    list_filter = ["status", "category", "priority"]
    search_fields = ["title", "description", "incident__number", "owner__username"]
    raw_id_fields = ["incident", "postmortem"]
    readonly_fields = ["created_at", "created_by", "completed_at"]


class EmailAttemptInline(PortalTabularInline):
    model = EmailAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["to", "subject", "ok", "error", "attempted_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Reminder)
class ReminderAdmin(PortalAdmin):
    list_display = ["kind", "recipient", "postmortem", "due_at", "status", "attempts", "sent_at"]
    list_filter = ["kind", "status"]
    search_fields = ["key", "recipient__username"]
    readonly_fields = ["key", "kind", "postmortem", "recipient", "attempts", "claimed_at", "sent_at", "last_error", "created_at"]
    inlines = [EmailAttemptInline]


@admin.register(EmailAttempt)
class EmailAttemptAdmin(PortalAdmin):
    list_display = ["to", "subject", "ok", "attempted_at"]
    list_filter = ["ok"]
    readonly_fields = ["reminder", "to", "subject", "ok", "error", "attempted_at"]
