from django.contrib import admin, messages
from django.db import models

from incidents.bounded import PortalAdmin, PortalTabularInline

from . import services
from .exceptions import DomainError
from .models import (
    ApiToken,
    CommunicationTemplate,
    IdempotencyRecord,
    Incident,
    IncidentChecklistItem,
    IncidentCounter,
    IncidentMember,
    Maintenance,
    Service,
    Severity,
    SeverityChecklistItem,
    StatusUpdate,
    TimelineEvent,
)

# Admin URL fields take "example.com/x" as https:// (Django 6 does so by default).
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}


class SeverityChecklistInline(PortalTabularInline):
    model = SeverityChecklistItem
    extra = 1


@admin.register(Severity)
class SeverityAdmin(PortalAdmin):
    list_display = ["key", "label", "rank", "ack_target", "update_policy", "update_cadence", "postmortem_required", "postmortem_due", "is_active"]
    list_editable = ["is_active"]
    list_filter = ["is_active", "postmortem_required", "update_policy"]
    search_fields = ["key", "label", "description"]
    inlines = [SeverityChecklistInline]


@admin.register(Service)
class ServiceAdmin(PortalAdmin):
    formfield_overrides = HTTPS_URLS
    list_display = ["name", "slug", "team", "created_at"]
    search_fields = ["name", "slug", "team", "description"]
    list_filter = ["team"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(CommunicationTemplate)
class CommunicationTemplateAdmin(PortalAdmin):
    list_display = ["name", "kind", "audience", "position"]
    list_filter = ["kind"]
    search_fields = ["name", "body"]


class RecordAdmin(PortalAdmin):
    """Rows only the services write (history, derived records): every field read-only and none
    added by hand, so the timeline stays the true record of who did what."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields]

    def has_add_permission(self, request):
        return False


class ReadOnlyInline(PortalTabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TimelineInline(ReadOnlyInline):
    model = TimelineEvent
    fields = ["occurred_at", "kind", "actor", "actor_label", "message"]
    ordering = ["occurred_at"]


class UpdateInline(ReadOnlyInline):
    model = StatusUpdate
    fields = ["created_at", "status", "visibility", "author", "body"]


class MemberInline(ReadOnlyInline):
    model = IncidentMember
    fields = ["role", "user", "assigned_at", "assigned_by"]


class ChecklistInline(ReadOnlyInline):
    model = IncidentChecklistItem
    fields = ["text", "done_at", "done_by"]


@admin.register(Incident)
class IncidentAdmin(PortalAdmin):
    """Incidents are read here; state changes go through the services (actions below, or the
    staff pages), so every change is on the timeline."""

    list_display = ["number", "title", "severity", "status", "detection_source", "declared_at", "acknowledged_at", "resolved_at"]
    list_filter = ["status", "severity", "detection_source", "false_positive", "services"]
    search_fields = ["number", "title", "summary"]
    date_hierarchy = "declared_at"
    list_select_related = ["severity"]
    readonly_fields = [f.name for f in Incident._meta.concrete_fields] + ["services"]
    inlines = [MemberInline, UpdateInline, TimelineInline, ChecklistInline]
    actions = ["acknowledge", "resolve"]

    def has_add_permission(self, request):
        return False  # declare from the staff UI or the API, so the timeline starts right

    @admin.action(description="Acknowledge selected incidents", permissions=["change"])
    def acknowledge(self, request, queryset):
        self._run(request, queryset, lambda i: services.incident_acknowledge(incident=i, by=request.user))

    @admin.action(description="Resolve selected incidents", permissions=["change"])
    def resolve(self, request, queryset):
        self._run(request, queryset, lambda i: services.incident_resolve(incident=i, by=request.user, summary="Resolved from the admin."))

    def _run(self, request, queryset, fn):
        done = 0
        for incident in queryset:
            try:
                fn(incident)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{incident.number}: {exc.message}", messages.WARNING)
        if done:
            self.message_user(request, f"{done} incident(s) updated.", messages.SUCCESS)


@admin.register(TimelineEvent)
class TimelineEventAdmin(RecordAdmin):
    list_display = ["incident", "kind", "occurred_at", "actor", "actor_label", "dispatched_at"]
    list_filter = ["kind"]
    search_fields = ["incident__number", "message"]
    list_select_related = ["incident", "actor"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(StatusUpdate)
class StatusUpdateAdmin(RecordAdmin):
    list_display = ["incident", "status", "visibility", "created_at", "author"]
    list_filter = ["visibility", "status"]
    search_fields = ["incident__number", "body"]
    list_select_related = ["incident", "author"]


@admin.register(Maintenance)
class MaintenanceAdmin(PortalAdmin):
    list_display = ["title", "status", "scheduled_for", "scheduled_until", "public", "suppress_alerts"]
    list_filter = ["status", "public", "suppress_alerts", "services"]
    search_fields = ["title", "description"]
    filter_horizontal = ["services"]


@admin.register(ApiToken)
class ApiTokenAdmin(PortalAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "name", "prefix"]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False  # keys are made by `manage.py create_api_token` or the API, shown once


@admin.register(IncidentCounter)
class IncidentCounterAdmin(PortalAdmin):
    list_display = ["day", "last"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SeverityChecklistItem)
class SeverityChecklistItemAdmin(PortalAdmin):
    list_display = ["text", "severity", "position"]
    list_filter = ["severity"]
    search_fields = ["text"]


@admin.register(IncidentMember)
class IncidentMemberAdmin(RecordAdmin):
    list_display = ["incident", "role", "user", "assigned_at", "assigned_by"]
    list_filter = ["role"]
    search_fields = ["incident__number", "user__username"]
    list_select_related = ["incident", "user", "assigned_by"]


@admin.register(IncidentChecklistItem)
class IncidentChecklistItemAdmin(RecordAdmin):
    list_display = ["incident", "text", "done_at", "done_by"]
    search_fields = ["incident__number", "text"]
    list_select_related = ["incident", "done_by"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(RecordAdmin):
    list_display = ["key", "scope", "user", "status_code", "created_at"]
    search_fields = ["key", "user__username"]

