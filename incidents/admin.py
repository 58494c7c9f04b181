from django.contrib import admin, messages
from django.db import models, transaction
from django.http import HttpResponseRedirect

from incidents.bounded import PortalAdmin, PortalTabularInline

from . import access, archive, catalog, communications, incident_types, services
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
    MetricTargets,
    Service,
    Severity,
    SeverityChecklistItem,
    StatusUpdate,
    TimelineEvent,
)

# Admin URL fields take "example.com/x" as https:// (Django 6 does so by default).
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}


class WritesThroughServices:
    """An admin whose every write is a call to the app's services, so the checks and the audit
    entry are the ones the API and the staff pages get.

    Subclasses implement `create(request, form)` (returns the new object), `update(request, obj,
    changes)` (`obj` fresh from the database, `changes` the edited fields' cleaned values, many-to-
    many included) and `delete(request, obj)`; an inline's rows go to `inline_<model_name>_create`
    (parent, unsaved row), `_update` (parent, row, changes) and `_delete` (parent, row). A
    `DomainError` from a service is shown on the form (on its field when the form has it) and
    nothing is saved; a bulk delete deletes one object at a time through `delete`. The admin's own
    log entries are off: the services write them."""

    def create(self, request, form):
        raise NotImplementedError

    def update(self, request, obj, changes: dict):
        raise NotImplementedError

    def delete(self, request, obj):
        raise NotImplementedError

    @staticmethod
    def changes(form) -> dict:
        return {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}

    @staticmethod
    def fresh(obj):
        return type(obj)._default_manager.get(pk=obj.pk)

    # -- the admin's hooks, each through the subclass's services --

    def save_model(self, request, obj, form, change):
        if change:
            self.update(request, self.fresh(obj), self.changes(form))
            return
        created = self.create(request, form)
        obj.__dict__.update({k: v for k, v in created.__dict__.items() if k != "_state"})
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        for formset in formsets:  # not form.save_m2m(): many-to-many fields went to the service
            self.save_formset(request, form, formset, change)

    def save_formset(self, request, form, formset, change):
        name = formset.model._meta.model_name
        parent = form.instance
        formset.save(commit=False)
        for obj in formset.deleted_objects:
            getattr(self, f"inline_{name}_delete")(request, parent, self.fresh(obj))
        for obj, changed in formset.changed_objects:
            data = {field: getattr(obj, field) for field in changed}
            getattr(self, f"inline_{name}_update")(request, parent, self.fresh(obj), data)
        for obj in formset.new_objects:
            getattr(self, f"inline_{name}_create")(request, parent, obj)

    def delete_model(self, request, obj):
        self.delete(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            try:
                with transaction.atomic():
                    self.delete(request, obj)
            except DomainError as exc:
                self.message_user(request, f"{obj}: {exc.message}", messages.ERROR)

    def log_addition(self, request, obj, message):
        return None

    def log_change(self, request, obj, message):
        return None

    def log_deletion(self, request, obj, object_repr):
        return None

    def log_deletions(self, request, queryset):
        return None

    # -- a refusal shows on the form, with what was typed --

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "_service_refusal", None)
        if refusal is None:
            return form

        class Refused(form):
            def clean(self):
                data = super().clean()
                self.add_error(refusal.field if refusal.field in self.fields else None, refusal.message)
                return data

        return Refused

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            if request.method != "POST" or hasattr(request, "_service_refusal"):
                raise
            request._service_refusal = exc  # render again: the form shows the service's message
            return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.path.rsplit("delete/", 1)[0] + "change/")

    def changelist_view(self, request, extra_context=None):  # list_editable rows go through save_model
        try:
            return super().changelist_view(request, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class SeverityChecklistInline(PortalTabularInline):
    model = SeverityChecklistItem
    extra = 1


@admin.register(Severity)
class SeverityAdmin(WritesThroughServices, PortalAdmin):
    list_display = ["key", "label", "rank", "ack_target", "update_policy", "update_cadence", "postmortem_required", "postmortem_due", "is_active"]
    list_editable = ["is_active"]
    list_filter = ["is_active", "postmortem_required", "update_policy"]
    search_fields = ["key", "label", "description"]
    inlines = [SeverityChecklistInline]

    def create(self, request, form):
        return catalog.severity_create(by=request.user, **{f: form.cleaned_data[f] for f in catalog.SEVERITY_FIELDS if f in form.cleaned_data})

    def update(self, request, obj, changes):
        catalog.severity_update(severity=obj, by=request.user, **changes)

    def delete(self, request, obj):
        catalog.severity_delete(severity=obj, by=request.user)

    def inline_severitychecklistitem_create(self, request, severity, item):
        catalog.severity_checklist_add(severity=severity, text=item.text, position=item.position, by=request.user)

    def inline_severitychecklistitem_update(self, request, severity, item, changes):
        catalog.severity_checklist_update(item=item, by=request.user, **changes)

    def inline_severitychecklistitem_delete(self, request, severity, item):
        catalog.severity_checklist_delete(item=item, by=request.user)


class ArchiveInsteadOfDelete(WritesThroughServices):
    """Admin for a model with `archived_at`: delete only what nothing refers to (audited, one
    at a time, through `delete`), archive the rest with the "Archive" action."""

    archive_owned: tuple[str, ...] = ()
    actions = ["archive_selected", "restore_selected"]

    def archive_one(self, obj, by):
        archive.archive(obj, by=by)

    def restore_one(self, obj, by):
        archive.restore(obj, by=by)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and archive.references(obj, owned=self.archive_owned):
            return False  # still referred to: archive it instead
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, from the object's page
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
            self.restore_one(obj, request.user)
        self.message_user(request, f"Restored {queryset.count()}.", messages.SUCCESS)


@admin.register(Service)
class ServiceAdmin(ArchiveInsteadOfDelete, PortalAdmin):
    formfield_overrides = HTTPS_URLS
    list_display = ["name", "slug", "team", "created_at", "archived_at"]
    search_fields = ["name", "slug", "team", "description"]
    list_filter = ["team", ("archived_at", admin.EmptyFieldListFilter)]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["archived_at"]

    def archive_one(self, obj, by):
        catalog.service_archive(service=obj, by=by)

    def restore_one(self, obj, by):
        catalog.service_restore(service=obj, by=by)

    def create(self, request, form):
        return catalog.service_create(by=request.user, **{f: form.cleaned_data[f] for f in catalog.SERVICE_FIELDS if f in form.cleaned_data})

    def update(self, request, obj, changes):
        catalog.service_update(service=obj, by=request.user, **changes)

    def delete(self, request, obj):
        catalog.service_delete(service=obj, by=request.user)


@admin.register(MetricTargets)
class MetricTargetsAdmin(WritesThroughServices, PortalAdmin):
    """The one row of targets, changed through catalog.metric_targets_update (audited); never
    added or deleted (the migration seeds it)."""

    list_display = ["__str__", "mttk_target", "mtti_target", "mtbf_target", "false_positive_rate_target"]
    fields = list(catalog.METRIC_TARGET_FIELDS)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def update(self, request, obj, changes):
        catalog.metric_targets_update(by=request.user, **changes)


@admin.register(CommunicationTemplate)
class CommunicationTemplateAdmin(WritesThroughServices, PortalAdmin):
    """Through incidents.communications: the body must compile; every change is audited."""

    list_display = ["name", "kind", "incident_type", "audience", "position"]
    list_filter = ["kind", "incident_type"]
    search_fields = ["name", "body"]

    def create(self, request, form):
        fields = {f: form.cleaned_data[f] for f in communications.TEMPLATE_FIELDS if f in form.cleaned_data}
        return communications.communication_template_create(by=request.user, **fields)

    def update(self, request, obj, changes):
        communications.communication_template_update(template=obj, by=request.user, **changes)

    def delete(self, request, obj):
        communications.communication_template_delete(template=obj, by=request.user)


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
    readonly_fields = [f.name for f in Incident._meta.concrete_fields] + ["services", "access_groups"]
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
class ApiTokenAdmin(RecordAdmin):
    """Keys are made by `manage.py create_api_token` or the API (shown once) and revoked for
    good with the action below: a revoked token is never valid again."""

    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "name", "prefix"]
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row names who used the API

    @admin.action(description="Revoke the selected tokens (for good)")
    def revoke(self, request, queryset):
        n = sum(access.api_token_revoke(token=token, by=request.user) for token in queryset.select_related("user"))
        self.message_user(request, f"Revoked {n} token(s).", messages.SUCCESS)


@admin.register(IncidentCounter)
class IncidentCounterAdmin(RecordAdmin):
    """Where incident numbers come from: never edited, added or removed by hand (numbers would repeat)."""

    keeps_history = True
    list_display = ["day", "last"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SeverityChecklistItem)
class SeverityChecklistItemAdmin(WritesThroughServices, PortalAdmin):
    list_display = ["text", "severity", "position"]
    list_filter = ["severity"]
    search_fields = ["text"]

    def get_readonly_fields(self, request, obj=None):
        return ["severity"] if obj is not None else []

    def create(self, request, form):
        data = form.cleaned_data
        return catalog.severity_checklist_add(severity=data["severity"], text=data["text"], position=data.get("position", 0), by=request.user)

    def update(self, request, obj, changes):
        catalog.severity_checklist_update(item=obj, by=request.user, **changes)

    def delete(self, request, obj):
        catalog.severity_checklist_delete(item=obj, by=request.user)


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

    keeps_history = True  # not removed here either: the incident page's removal writes the timeline
    list_display = ["incident", "kind", "title", "url", "added_at", "added_by"]
    list_filter = ["kind"]
    search_fields = ["incident__number", "title", "url"]
    list_select_related = ["incident", "added_by"]


class IncidentTypeChecklistInline(PortalTabularInline):
    model = IncidentTypeChecklistItem
    extra = 1


@admin.register(IncidentType)
class IncidentTypeAdmin(WritesThroughServices, PortalAdmin):
    """Types, and their playbook lines inline, through incidents.incident_types (audited). The
    escalation policy a type starts is set on the policy (on call)."""

    list_display = ["name", "key", "default_severity", "public", "restricted", "postmortem_required", "is_drill", "position", "is_active"]
    list_editable = ["is_active"]
    list_filter = ["is_active", "public", "restricted", "is_drill", "postmortem_required"]
    search_fields = ["key", "name", "description"]
    prepopulated_fields = {"key": ["name"]}
    inlines = [IncidentTypeChecklistInline]

    def create(self, request, form):
        fields = {f: form.cleaned_data[f] for f in incident_types.FIELDS if f in form.cleaned_data}
        return incident_types.incident_type_create(by=request.user, access_groups=form.cleaned_data.get("access_groups", ()), **fields)

    def update(self, request, obj, changes):
        incident_types.incident_type_update(incident_type=obj, by=request.user, **changes)

    def delete(self, request, obj):
        incident_types.incident_type_delete(incident_type=obj, by=request.user)

    def inline_incidenttypechecklistitem_create(self, request, incident_type, item):
        incident_types.incident_type_checklist_add(incident_type=incident_type, text=item.text, owner_role=item.owner_role,
                                                   position=item.position, by=request.user)

    def inline_incidenttypechecklistitem_update(self, request, incident_type, item, changes):
        incident_types.incident_type_checklist_update(item=item, by=request.user, **changes)

    def inline_incidenttypechecklistitem_delete(self, request, incident_type, item):
        incident_types.incident_type_checklist_delete(item=item, by=request.user)


@admin.register(IncidentTypeChecklistItem)
class IncidentTypeChecklistItemAdmin(WritesThroughServices, PortalAdmin):
    list_display = ["text", "incident_type", "owner_role", "position"]
    list_filter = ["incident_type", "owner_role"]
    search_fields = ["text"]

    def create(self, request, form):
        data = form.cleaned_data
        return incident_types.incident_type_checklist_add(
            incident_type=data["incident_type"], text=data["text"], owner_role=data.get("owner_role", ""),
            position=data.get("position") or 0, by=request.user)

    def update(self, request, obj, changes):
        incident_types.incident_type_checklist_update(item=obj, by=request.user, **changes)

    def delete(self, request, obj):
        incident_types.incident_type_checklist_delete(item=obj, by=request.user)
