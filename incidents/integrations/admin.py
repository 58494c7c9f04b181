from django.contrib import admin, messages

from incidents import archive
from incidents.admin import HTTPS_URLS, ArchiveInsteadOfDelete, RecordAdmin, WritesThroughServices
from incidents.bounded import PortalAdmin, PortalTabularInline
from incidents.exceptions import DomainError

from .models import Alert, AlertGroup, Heartbeat, Integration, IntegrationMaintenance, Runbook
from .services import configuration, runbooks


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
        configuration.integration_archive(integration=obj, by=by)

    def restore_one(self, obj, by):
        configuration.integration_restore(integration=obj, by=by)

    def create(self, request, form):
        data = form.cleaned_data
        config = {f: data[f] for f in configuration.EDITABLE if f in data and f not in ("name", "service", "default_severity")}
        created, key = configuration.integration_create(
            name=data["name"], service=data["service"], kind=data["kind"], by=request.user, default_severity=data.get("default_severity"),
            **config,
        )
        messages.warning(request, f"Integration key (shown once): {key}")
        return created

    def update(self, request, obj, changes):
        configuration.integration_update(integration=obj, by=request.user, **{f: v for f, v in changes.items() if f in configuration.EDITABLE})

    def delete(self, request, obj):
        configuration.integration_delete(integration=obj, by=request.user)

    def inline_integrationmaintenance_create(self, request, integration, window):
        configuration.integration_maintenance_create(integration=integration, starts_at=window.starts_at, ends_at=window.ends_at,
                                                reason=window.reason, by=request.user)

    def inline_integrationmaintenance_update(self, request, integration, window, changes):
        configuration.integration_maintenance_update(window=window, by=request.user, **changes)

    def inline_integrationmaintenance_delete(self, request, integration, window):
        configuration.integration_maintenance_delete(window=window, by=request.user)

    @admin.action(description="Rotate the key of the selected integrations")
    def rotate_keys(self, request, queryset):
        for integration in queryset:
            try:
                key = configuration.integration_rotate_key(integration=integration, by=request.user)
            except DomainError as exc:
                messages.error(request, f"{integration.name}: {exc.message}")
            else:
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
class HeartbeatAdmin(WritesThroughServices, PortalAdmin):
    """A heartbeat's timing, changed through its integration (the due time follows, audited);
    it comes and goes with its integration."""

    list_display = ["integration", "status", "interval", "grace", "last_ping_at", "due_at"]
    readonly_fields = ["integration", "status", "last_ping_at", "due_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def update(self, request, obj, changes):
        timing = {f"heartbeat_{name}": changes[name] for name in ("interval", "grace") if name in changes}
        configuration.integration_update(integration=obj.integration, by=request.user, **timing)


@admin.register(Runbook)
class RunbookAdmin(WritesThroughServices, PortalAdmin):
    formfield_overrides = HTTPS_URLS
    list_display = ["identifier", "title", "time_estimate", "last_reviewed"]
    search_fields = ["identifier", "title", "steps"]
    filter_horizontal = ["services"]
    list_filter = ["services"]

    def create(self, request, form):
        data = dict(form.cleaned_data)
        return runbooks.runbook_save(identifier=data.pop("identifier"), services=data.pop("services", []), by=request.user,
                                     **{f: data[f] for f in runbooks.RUNBOOK_FIELDS if f in data})

    def update(self, request, obj, changes):
        runbooks.runbook_save(runbook=obj, identifier=changes.pop("identifier", None), services=changes.pop("services", None),
                              by=request.user, **changes)

    def delete(self, request, obj):
        archive.delete_unreferenced(obj, by=request.user, what=f"The runbook {obj.identifier}", archive_hint="no archive: unlink it")
