from django.contrib import admin, messages
from django.db import models

from incidents.bounded import PortalAdmin, PortalTabularInline

from . import archive, services
from .exceptions import DomainError
from .models import (
    ApiToken,
    CommunicationTemplate,
    EventDelivery,
    IdempotencyRecord,
    Incident,
    IncidentChecklistItem,
    IncidentCounter,
    IncidentLink,
    IncidentMember,
    IncidentType,
    IncidentTypeChecklistItem,
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


class ArchiveInsteadOfDelete:
    """Admin for a model with `archived_at`: delete only what nothing refers to (audited, one
    at a time), archive the rest with the "Archive" action (incidents.archive)."""

    archive_owned: tuple[str, ...] = ()
    actions = ["archive_selected", "restore_selected"]

    def archive_one(self, obj, by):
        archive.archive(obj, by=by)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and archive.references(obj, owned=self.archive_owned):
            return False  # still referred to: archive it instead
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        archive.delete_unreferenced(obj, by=request.user, what=str(obj), archive_hint="the Archive action", owned=self.archive_owned)

    def log_deletions(self, request, queryset):
        return None  # delete_unreferenced has recorded it (bulk delete is not offered)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a bulk delete would skip the reference check
        return actions

    @admin.action(description="Archive selected (hidden from pickers, kept on history)")
    def archive_selected(self, request, queryset):
        for obj in queryset:
            try:
                self.archive_one(obj, request.user)
            except DomainError as exc:
                self.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"Archived {obj}.", messages.SUCCESS)

    @admin.action(description="Restore selected from the archive")
    def restore_selected(self, request, queryset):
        for obj in queryset:
            archive.restore(obj, by=request.user)
        self.message_user(request, f"Restored {queryset.count()}.", messages.SUCCESS)


@admin.register(Service)
class ServiceAdmin(ArchiveInsteadOfDelete, PortalAdmin):
    formfield_overrides = HTTPS_URLS
    list_display = ["name", "slug", "team", "created_at", "archived_at"]
    search_fields = ["name", "slug", "team", "description"]
    list_filter = ["team", ("archived_at", admin.EmptyFieldListFilter)]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(CommunicationTemplate)
class CommunicationTemplateAdmin(PortalAdmin):
    list_display = ["name", "kind", "audience", "position"]
    list_filter = ["kind"]
    search_fields = ["name", "body"]


class RecordAdmin(PortalAdmin):
    """Rows only the services write (history, derived records): every field read-only and none
    added by hand, so the timeline stays the true record of who did what."""

    keeps_history = False  # history rows (the timeline, public updates, roles) are never deleted either

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return not self.keeps_history and super().has_delete_permission(request, obj)


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
    fields = ["text", "owner_role", "done_at", "done_by"]


class LinkInline(ReadOnlyInline):
    model = IncidentLink
    fields = ["kind", "title", "url", "added_at", "added_by"]


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
    inlines = [MemberInline, LinkInline, UpdateInline, TimelineInline, ChecklistInline]
    actions = ["acknowledge", "resolve"]

    def has_add_permission(self, request):
        return False  # declare from the staff UI or the API, so the timeline starts right

    def has_delete_permission(self, request, obj=None):
        return False  # an incident and its timeline are the record: resolve it (or mark it a false positive)

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
    keeps_history = True
    list_display = ["incident", "kind", "occurred_at", "actor", "actor_label", "dispatched_at"]
    list_filter = ["kind"]
    search_fields = ["incident__number", "message"]
    list_select_related = ["incident", "actor"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EventDelivery)
class EventDeliveryAdmin(RecordAdmin):
    """The outbox: one row per (event, subscriber). A failed row says why; the sweep retries
    pending ones by itself."""

    list_display = ["event", "subscriber", "status", "attempts", "next_try_at", "done_at"]
    list_filter = ["status", "subscriber"]
    search_fields = ["event__incident__number", "subscriber", "last_error"]
    list_select_related = ["event__incident"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(StatusUpdate)
class StatusUpdateAdmin(RecordAdmin):
    keeps_history = True
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
    keeps_history = True
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



@admin.register(IncidentLink)
class IncidentLinkAdmin(RecordAdmin):
    """Added and removed from the incident page or the API, so the timeline says who."""

    list_display = ["incident", "kind", "title", "url", "added_at", "added_by"]
    list_filter = ["kind"]
    search_fields = ["incident__number", "title", "url"]
    list_select_related = ["incident", "added_by"]


class IncidentTypeChecklistInline(PortalTabularInline):
    model = IncidentTypeChecklistItem
    extra = 1


@admin.register(IncidentType)
class IncidentTypeAdmin(PortalAdmin):
    list_display = ["name", "key", "default_severity", "public", "postmortem_required", "is_drill", "position", "is_active"]
    list_editable = ["is_active"]
    list_filter = ["is_active", "public", "is_drill", "postmortem_required"]
    search_fields = ["key", "name", "description"]
    prepopulated_fields = {"key": ["name"]}
    inlines = [IncidentTypeChecklistInline]


@admin.register(IncidentTypeChecklistItem)
class IncidentTypeChecklistItemAdmin(PortalAdmin):
    list_display = ["text", "incident_type", "owner_role", "position"]
    list_filter = ["incident_type", "owner_role"]
    search_fields = ["text"]
