from django.contrib import admin, messages

from incidents.admin import HTTPS_URLS, ArchiveInsteadOfDelete, RecordAdmin
from incidents.bounded import PortalAdmin, PortalTabularInline

from .models import Alert, AlertGroup, Heartbeat, Integration, IntegrationMaintenance, Runbook
from .services import configuration


class MaintenanceInline(PortalTabularInline):
    model = IntegrationMaintenance
    extra = 0
    fields = ["starts_at", "ends_at", "reason"]


@admin.register(Integration)
class IntegrationAdmin(ArchiveInsteadOfDelete, PortalAdmin):
    list_display = ["name", "service", "kind", "key_prefix", "default_severity", "revoked_at", "archived_at", "created_at"]
    list_filter = ["kind", "service", "revoked_at", ("archived_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "key_prefix"]
    readonly_fields = ["public_id", "key_prefix", "key_rotated_at", "created_at", "created_by"]
    inlines = [MaintenanceInline]
    actions = ["rotate_keys", "revoke", *ArchiveInsteadOfDelete.actions]

    def archive_one(self, obj, by):
        configuration.integration_archive(integration=obj, by=by)

    def save_model(self, request, obj, form, change):
        if change:
            changes = {f: form.cleaned_data[f] for f in form.changed_data if f in configuration.EDITABLE}
            # by=None: the admin writes its own log entry for this change (fields and inlines).
            configuration.integration_update(integration=obj, by=None, **changes)
            if "revoked_at" in form.changed_data:
                obj.save(update_fields=["revoked_at"])
            return
        config = {f: form.cleaned_data[f] for f in configuration.EDITABLE if f in form.cleaned_data and f not in ("name", "service", "default_severity")}
        created, key = configuration.integration_create(
            name=obj.name, service=obj.service, kind=obj.kind, by=request.user, default_severity=obj.default_severity, **config,
        )
        obj.pk, obj.public_id = created.pk, created.public_id
        obj._state.adding = False
        messages.warning(request, f"Integration key (shown once): {key}")

    def log_addition(self, request, obj, message):
        return None  # integration_create has recorded it, with who

    @admin.action(description="Rotate the key of the selected integrations")
    def rotate_keys(self, request, queryset):
        for integration in queryset:
            key = configuration.integration_rotate_key(integration=integration, by=request.user)
            messages.warning(request, f"New key for {integration.name} (shown once): {key}")

    @admin.action(description="Revoke the selected integrations")
    def revoke(self, request, queryset):
        for integration in queryset.filter(revoked_at__isnull=True):
            configuration.integration_revoke(integration=integration, by=request.user)


@admin.register(Alert)
class AlertAdmin(RecordAdmin):
    list_display = ["title", "integration", "status", "severity", "count", "incident", "suppressed", "last_seen_at"]
    list_filter = ["status", "suppressed", "integration__kind", "integration"]
    search_fields = ["title", "fingerprint"]
    list_select_related = ["integration", "incident"]


@admin.register(AlertGroup)
class AlertGroupAdmin(RecordAdmin):
    list_display = ["label", "integration", "incident", "window_count", "created_at"]
    list_select_related = ["integration", "incident"]


@admin.register(Heartbeat)
class HeartbeatAdmin(PortalAdmin):
    list_display = ["integration", "status", "interval", "grace", "last_ping_at", "due_at"]
    readonly_fields = ["status", "last_ping_at", "due_at"]


@admin.register(Runbook)
class RunbookAdmin(PortalAdmin):
    formfield_overrides = HTTPS_URLS
    list_display = ["identifier", "title", "time_estimate", "last_reviewed"]
    search_fields = ["identifier", "title", "steps"]
    filter_horizontal = ["services"]
    list_filter = ["services"]
