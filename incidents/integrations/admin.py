from django.contrib import admin, messages

from incidents.admin import HTTPS_URLS, ArchiveInsteadOfDelete, RecordAdmin
from incidents.bounded import PortalAdmin, PortalTabularInline

from . import services
from .models import Alert, AlertGroup, Heartbeat, Integration, IntegrationMaintenance, Runbook


class MaintenanceInline(PortalTabularInline):
    model = IntegrationMaintenance
    extra = 0
    fields = ["starts_at", "ends_at", "reason"]


@admin.register(Integration)
class IntegrationAdmin(ArchiveInsteadOfDelete, PortalAdmin):
    """Integrations, written through their services: a revoked key stays revoked (rotate it to
    use the integration again), every change is audited with who."""

    list_display = ["name", "service", "kind", "key_prefix", "default_severity", "revoked_at", "archived_at", "created_at"]
    list_filter = ["kind", "service", "revoked_at", ("archived_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "key_prefix"]
    readonly_fields = ["public_id", "key_prefix", "key_rotated_at", "revoked_at", "archived_at", "created_at", "created_by"]
    inlines = [MaintenanceInline]
    actions = ["rotate_keys", "revoke", *ArchiveInsteadOfDelete.actions]

    def archive_one(self, obj, by):
        services.integration_archive(integration=obj, by=by)

    def restore_one(self, obj, by):
        services.integration_restore(integration=obj, by=by)

    def create(self, request, form):
        data = form.cleaned_data
        config = {f: data[f] for f in services.EDITABLE if f in data and f not in ("name", "service", "default_severity")}
        created, key = services.integration_create(
            name=data["name"], service=data["service"], kind=data["kind"], by=request.user, default_severity=data.get("default_severity"),
            **config,
        )
        messages.warning(request, f"Integration key (shown once): {key}")
        return created

    def update(self, request, obj, changes):
        services.integration_update(integration=obj, by=request.user, **{f: v for f, v in changes.items() if f in services.EDITABLE})

    def delete(self, request, obj):
        services.integration_delete(integration=obj, by=request.user)

    def inline_integrationmaintenance_create(self, request, integration, window):
        services.integration_maintenance_create(integration=integration, starts_at=window.starts_at, ends_at=window.ends_at,
                                                reason=window.reason, by=request.user)

    def inline_integrationmaintenance_update(self, request, integration, window, changes):
        services.integration_maintenance_update(window=window, by=request.user, **changes)

    def inline_integrationmaintenance_delete(self, request, integration, window):
        services.integration_maintenance_delete(window=window, by=request.user)

    @admin.action(description="Rotate the key of the selected integrations")
    def rotate_keys(self, request, queryset):
        for integration in queryset:
            key = services.integration_rotate_key(integration=integration, by=request.user)
            messages.warning(request, f"New key for {integration.name} (shown once): {key}")

    @admin.action(description="Revoke the selected integrations")
    def revoke(self, request, queryset):
        for integration in queryset.filter(revoked_at__isnull=True):
            services.integration_revoke(integration=integration, by=request.user)


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
