from django.contrib import admin, messages

from incidents.admin import HTTPS_URLS, ArchiveInsteadOfDelete, RecordAdmin, WritesThroughServices
from incidents.admin import MaintenanceAdmin as CoreMaintenanceAdmin
from incidents.bounded import PortalAdmin, PortalTabularInline
from incidents.models import Maintenance

from . import configuration, services, subscriptions
from .models import (
    ComponentGroup,
    ComponentImpact,
    ComponentStatusPeriod,
    FooterLink,
    MaintenanceRecord,
    MaintenanceUpdate,
    PageSettings,
    PublicIncident,
    PublicUpdateInfo,
    StatusComponent,
    Subscriber,
)


class FooterLinkInline(PortalTabularInline):
    formfield_overrides = HTTPS_URLS
    model = FooterLink
    extra = 1


@admin.register(PageSettings)
class PageSettingsAdmin(WritesThroughServices, PortalAdmin):
    """Through statuspage.configuration: links http(s) only, audited, the public cache refreshed."""

    formfield_overrides = HTTPS_URLS
    inlines = [FooterLinkInline]
    list_display = ["name", "support_email", "brand_colour"]
    readonly_fields = ["code"]

    def has_add_permission(self, request):
        return not PageSettings.objects.exists() and super().has_add_permission(request)

    def create(self, request, form):
        fields = {f: form.cleaned_data[f] for f in configuration.PAGE_FIELDS if f in form.cleaned_data}
        return configuration.page_settings_create(by=request.user, **fields)

    def update(self, request, obj, changes):
        configuration.page_settings_update(page=obj, by=request.user, **changes)

    def delete(self, request, obj):
        configuration.page_settings_delete(page=obj, by=request.user)

    def inline_footerlink_create(self, request, page, link):
        configuration.footer_link_add(page=page, by=request.user, label=link.label, url=link.url, position=link.position)

    def inline_footerlink_update(self, request, page, link, changes):
        configuration.footer_link_update(link=link, by=request.user, **changes)

    def inline_footerlink_delete(self, request, page, link):
        configuration.footer_link_delete(link=link, by=request.user)


@admin.register(ComponentGroup)
class ComponentGroupAdmin(WritesThroughServices, PortalAdmin):
    list_display = ["name", "position", "code"]
    readonly_fields = ["code"]

    def create(self, request, form):
        fields = {f: form.cleaned_data[f] for f in configuration.GROUP_FIELDS if f in form.cleaned_data}
        return configuration.component_group_create(by=request.user, **fields)

    def update(self, request, obj, changes):
        configuration.component_group_update(group=obj, by=request.user, **changes)

    def delete(self, request, obj):
        configuration.component_group_delete(group=obj, by=request.user)


@admin.register(StatusComponent)
class StatusComponentAdmin(ArchiveInsteadOfDelete, PortalAdmin):
    list_display = ["name", "service", "group", "position", "status", "override", "degrade_on_alert", "showcase", "archived_at"]
    list_filter = ["group", "status", "degrade_on_alert", ("archived_at", admin.EmptyFieldListFilter)]
    list_editable = ["position"]
    search_fields = ["name", "service__name"]
    readonly_fields = ["code", "status"]
    fields = ["service", "name", "description", "group", "position", "showcase", "only_show_if_degraded", "degrade_on_alert",
              "override", "status", "start_date", "code"]

    def create(self, request, form):
        fields = {f: form.cleaned_data[f] for f in services.COMPONENT_FIELDS if f in form.cleaned_data}
        return services.component_save(component=StatusComponent(**fields), by=request.user)

    def update(self, request, obj, changes):
        services.component_update(component=obj, by=request.user, **changes)

    def delete(self, request, obj):
        services.component_delete(component=obj, by=request.user)

    def archive_one(self, obj, by):
        services.component_archive(component=obj, by=by)

    def restore_one(self, obj, by):
        services.component_restore(component=obj, by=by)


@admin.register(PublicIncident)
class PublicIncidentAdmin(WritesThroughServices, PortalAdmin):
    """An incident goes on the public page with its first public update (from the incident page or
    the API), never from here; here its public name, impact and postmortem link are corrected, or
    it is taken off the page."""

    formfield_overrides = HTTPS_URLS
    list_display = ["name", "incident", "impact", "published_at"]
    readonly_fields = ["incident", "code", "published_at", "postmortem_published_at"]
    search_fields = ["name", "incident__number"]

    def has_add_permission(self, request):
        return False

    def update(self, request, obj, changes):
        configuration.public_incident_update(pub=obj, by=request.user, **changes)

    def delete(self, request, obj):
        configuration.public_incident_remove(pub=obj, by=request.user)


@admin.register(ComponentImpact)
class ComponentImpactAdmin(PortalAdmin):
    list_display = ["incident", "component", "status", "source", "updated_at"]
    list_filter = ["status", "source"]

    def has_add_permission(self, request):
        return False  # set from the incident page, so the state is re-derived

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Subscriber)
class SubscriberAdmin(WritesThroughServices, PortalAdmin):
    """Support's hand on subscriptions, through statuspage.subscriptions: one added here gets the
    same confirmation (double opt-in) and webhook address check as from the public page; where a
    subscription goes is fixed once made; unsubscribing and removing are audited."""

    formfield_overrides = HTTPS_URLS
    list_display = ["__str__", "kind", "created_at", "confirmed_at", "unsubscribed_at"]
    list_filter = ["kind"]
    search_fields = ["email", "endpoint"]
    fields = ["kind", "email", "endpoint", "components", "code", "created_at", "confirmed_at", "unsubscribed_at"]
    actions = ["unsubscribe"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["code", "created_at", "confirmed_at", "unsubscribed_at"]
        return ["kind", "email", "endpoint", "code", "created_at", "confirmed_at", "unsubscribed_at"]

    def create(self, request, form):
        data = form.cleaned_data
        return subscriptions.subscriber_add(by=request.user, kind=data.get("kind", ""), email=data.get("email", ""),
                                            endpoint=data.get("endpoint", ""), components=data.get("components", ()))

    def update(self, request, obj, changes):
        subscriptions.subscriber_update(subscriber=obj, by=request.user, **changes)

    def delete(self, request, obj):
        subscriptions.subscriber_delete(subscriber=obj, by=request.user)

    @admin.action(description="Unsubscribe the selected subscribers", permissions=["change"])
    def unsubscribe(self, request, queryset):
        n = sum(subscriptions.subscriber_unsubscribe(subscriber=s, by=request.user) for s in queryset)
        self.message_user(request, f"Unsubscribed {n}.", messages.SUCCESS)


class MaintenanceUpdateInline(PortalTabularInline):
    model = MaintenanceUpdate
    extra = 0
    readonly_fields = ["status", "body", "created_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the window's services post these


admin.site.unregister(Maintenance)


@admin.register(Maintenance)
class MaintenanceAdmin(WritesThroughServices, CoreMaintenanceAdmin):
    """The core's list, written through the status page's services (public record, scheduled
    update, component states, scheduler, audit), like its staff page and the API."""

    inlines = [MaintenanceUpdateInline]
    readonly_fields = ["status"]

    def _started(self, request, maintenance):
        if maintenance.scheduled_for <= services.timezone.now() and maintenance.status == "scheduled":
            messages.info(request, "The window has started; the scheduler will move it to in progress within seconds.")

    def create(self, request, form):
        fields = {f: form.cleaned_data[f] for f in (*MAINTENANCE_FIELDS, "services") if f in form.cleaned_data}
        maintenance = services.maintenance_save(by=request.user, **fields)
        self._started(request, maintenance)
        return maintenance

    def update(self, request, obj, changes):
        values = {f: getattr(obj, f) for f in MAINTENANCE_FIELDS} | {"services": list(obj.services.all())} | changes
        maintenance = services.maintenance_save(maintenance=obj, by=request.user, **values)
        self._started(request, maintenance)

    def delete(self, request, obj):
        services.maintenance_delete(maintenance=obj, by=request.user)


MAINTENANCE_FIELDS = ("title", "description", "scheduled_for", "scheduled_until", "public", "suppress_alerts")


class ReadOnlyAdmin(RecordAdmin):
    """Records the status page derives itself: visible for support, changed only by its services
    (removing one by hand would leave the page's history or state wrong)."""

    keeps_history = True

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ComponentStatusPeriod)
class ComponentStatusPeriodAdmin(ReadOnlyAdmin):
    list_display = ["component", "status", "started_at", "ended_at"]
    list_filter = ["status", "component"]
    date_hierarchy = "started_at"
    list_select_related = ["component"]


@admin.register(PublicUpdateInfo)
class PublicUpdateInfoAdmin(ReadOnlyAdmin):
    list_display = ["code", "update", "affected_components"]
    search_fields = ["code", "update__incident__number"]
    list_select_related = ["update", "update__incident"]


@admin.register(MaintenanceRecord)
class MaintenanceRecordAdmin(ReadOnlyAdmin):
    list_display = ["code", "maintenance", "created_at"]
    search_fields = ["code", "maintenance__title"]
    list_select_related = ["maintenance"]
