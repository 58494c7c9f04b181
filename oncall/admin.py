"""Everything configurable in the admin. Every write goes through the services (the same checks
and audit entries as the staff pages and the API); structures that only make sense whole (a
layer's participants, a policy's levels) are shown here and edited on their staff pages."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from incidents.admin import ArchiveInsteadOfDelete, WritesThroughServices
from incidents.bounded import BoundedFormMixin, PortalAdmin, PortalStackedInline, PortalTabularInline

from .models import (
    CalendarToken,
    Escalation,
    EscalationLevel,
    EscalationPolicy,
    EscalationStep,
    EscalationTarget,
    Handoff,
    HandoffNote,
    IntegrationPolicy,
    Layer,
    LayerMember,
    LayerMembership,
    Override,
    Profile,
    Restriction,
    Schedule,
    ServicePolicy,
    TypePolicy,
)
from .services import policies
from .services import schedules as svc

STAFF_PAGES = "Edit participants, restrictions and levels on the schedule's or the policy's own page, which checks them whole."


class ShownOnly:
    """An inline or admin that shows rows its parent's services write."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LayerInline(ShownOnly, PortalStackedInline):
    model = Layer
    extra = 0
    show_change_link = True
    fields = ["name", "position", "rotation", "every", "handoff_time", "handoff_weekday", "weekdays_only", "starts_on", "ends_at"]


class OverrideInline(PortalTabularInline):
    """Added and removed through the override services (the overlap check, the audit entry)."""

    model = Override
    extra = 0
    fk_name = "schedule"
    raw_id_fields = ("user", "replaces", "layer")
    fields = ["user", "start", "end", "layer", "replaces", "reason"]

    def has_change_permission(self, request, obj=None):
        return False  # remove it and add the corrected one


@admin.register(Schedule)
class ScheduleAdmin(ArchiveInsteadOfDelete, PortalAdmin):
    list_display = ("name", "time_zone", "version", "archived_at")
    search_fields = ("name",)
    fields = ["name", "time_zone", "description", "version", "archived_at"]
    readonly_fields = ["version", "archived_at"]
    archive_owned = svc.SCHEDULE_OWNED
    inlines = [LayerInline, OverrideInline]

    def archive_one(self, obj, by):
        svc.schedule_archive(schedule=obj, by=by)

    def restore_one(self, obj, by):
        svc.schedule_restore(schedule=obj, by=by)

    def create(self, request, form):
        data = form.cleaned_data
        schedule = svc.schedule_create(name=data["name"], time_zone=data["time_zone"], description=data.get("description", ""), by=request.user)
        messages.info(request, f"Add its layers on the schedule's page: {schedule.get_absolute_url()}")
        return schedule

    def update(self, request, obj, changes):
        svc.schedule_update(schedule=obj, by=request.user, **changes)

    def delete(self, request, obj):
        svc.schedule_delete(schedule=obj, by=request.user)

    def inline_override_create(self, request, schedule, override):
        svc.override_create(schedule=schedule, user=override.user, start=override.start, end=override.end, layer=override.layer,
                            replaces=override.replaces, reason=override.reason, by=request.user)

    def inline_override_delete(self, request, schedule, override):
        svc.override_delete(override=override, by=request.user)


class MembershipInline(ShownOnly, PortalTabularInline):
    model = LayerMembership
    extra = 0
    show_change_link = True
    fields = ["effective_from", "created_at"]
    readonly_fields = ["created_at"]


class RestrictionInline(ShownOnly, PortalTabularInline):
    model = Restriction
    extra = 0


@admin.register(Layer)
class LayerAdmin(WritesThroughServices, PortalAdmin):
    """A layer's rotation fields change here through `layer_update` (participants and
    restrictions kept); a new layer needs participants: add it on the schedule's page."""

    list_display = ("name", "schedule", "position", "rotation", "every", "handoff_time", "starts_on")
    list_filter = ("rotation",)
    fields = ["schedule", *svc.LAYER_FIELDS, "position"]
    readonly_fields = ["schedule", "position"]
    inlines = [MembershipInline, RestrictionInline]

    def has_add_permission(self, request):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            messages.info(request, STAFF_PAGES)
        return super().change_view(request, object_id, form_url, extra_context)

    def update(self, request, obj, changes):
        svc.layer_update(layer=obj, spec=svc.layer_spec(obj, **changes), by=request.user)

    def delete(self, request, obj):
        svc.layer_delete(layer=obj, by=request.user)


class MemberInline(ShownOnly, PortalTabularInline):
    model = LayerMember
    extra = 0
    fields = ["position", "user", "turns"]


@admin.register(LayerMembership)
class LayerMembershipAdmin(ShownOnly, PortalAdmin):
    """Who took turns in a layer from when: the history `layer_change_members` writes."""

    list_display = ("layer", "effective_from", "created_at")
    inlines = [MemberInline]


@admin.register(Override)
class OverrideAdmin(WritesThroughServices, PortalAdmin):
    list_display = ("schedule", "user", "start", "end", "layer", "replaces", "reason")
    list_filter = ("schedule",)
    raw_id_fields = ("user", "replaces")
    fields = ["schedule", "user", "start", "end", "layer", "replaces", "reason"]

    def has_change_permission(self, request, obj=None):
        return False  # remove it and add the corrected one: the overlap check runs on the new one

    def create(self, request, form):
        data = form.cleaned_data
        return svc.override_create(schedule=data["schedule"], user=data["user"], start=data["start"], end=data["end"],
                                   layer=data.get("layer"), replaces=data.get("replaces"), reason=data.get("reason", ""), by=request.user)

    def delete(self, request, obj):
        svc.override_delete(override=obj, by=request.user)


class TargetInline(ShownOnly, PortalTabularInline):
    model = EscalationTarget
    extra = 0


class LevelInline(ShownOnly, PortalStackedInline):
    model = EscalationLevel
    extra = 0
    show_change_link = True
    fields = ["position", "condition", "delay_seconds", "mode", "round_robin_seconds", "severities"]


class ServicePolicyInline(ShownOnly, PortalTabularInline):
    model = ServicePolicy
    extra = 0


class IntegrationPolicyInline(ShownOnly, PortalTabularInline):
    model = IntegrationPolicy
    extra = 0
    verbose_name = "integration override"
    verbose_name_plural = "integrations that start this policy instead of their service's"


class TypePolicyInline(ShownOnly, PortalTabularInline):
    model = TypePolicy
    extra = 0
    verbose_name = "incident type"
    verbose_name_plural = "incident types that start this policy in addition to their services'"


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(WritesThroughServices, PortalAdmin):
    """A policy's own fields change here through `policy_save` (its levels kept, checked again);
    levels, targets and the services it starts for are edited on the policy's page."""

    list_display = ("name", "repeat")
    fields = list(policies.POLICY_FIELDS)
    inlines = [LevelInline, ServicePolicyInline, IntegrationPolicyInline, TypePolicyInline]

    def has_add_permission(self, request):
        return False  # a policy needs levels: create it on the policies page or through the API

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            messages.info(request, STAFF_PAGES)
        return super().change_view(request, object_id, form_url, extra_context)

    def update(self, request, obj, changes):
        policies.policy_update(policy=obj, by=request.user, **changes)

    def delete(self, request, obj):
        policies.policy_delete(policy=obj, by=request.user)


@admin.register(EscalationLevel)
class EscalationLevelAdmin(ShownOnly, PortalAdmin):
    list_display = ("policy", "position", "condition", "delay_seconds", "mode")
    inlines = [TargetInline]


class StepInline(ShownOnly, PortalTabularInline):
    model = EscalationStep
    extra = 0
    can_delete = False
    readonly_fields = ("level", "round", "slot", "condition", "targets", "due_at", "status", "fired_at", "notified", "note")


@admin.register(Escalation)
class EscalationAdmin(ShownOnly, PortalAdmin):
    """Running and past escalations: the engine's rows (stop one from its incident's page)."""

    list_display = ("pk", "incident", "policy", "state", "started_at", "manual")
    list_filter = ("state", "manual")
    readonly_fields = ("incident", "policy", "trigger_event_id", "snapshot", "started_at", "finished_at", "manual")
    inlines = [StepInline]


@admin.register(Handoff)
class HandoffAdmin(ShownOnly, PortalAdmin):
    list_display = ("schedule", "due_at", "outgoing", "incoming", "status", "sent_at")
    list_filter = ("status",)
    readonly_fields = ("report",)


@admin.register(HandoffNote)
class HandoffNoteAdmin(ShownOnly, PortalAdmin):
    list_display = ("schedule", "author", "created_at", "handoff")


@admin.register(CalendarToken)
class CalendarTokenAdmin(ShownOnly, PortalAdmin):
    """Secret feed addresses: rotated by their owner (the profile page or the API), never typed in."""

    list_display = ("user",)
    exclude = ("token",)


# --- people: deactivated, never deleted -------------------------------------------------------

User = get_user_model()
NO_DELETE = ("People are deactivated, not deleted: untick “Active” below (or POST /api/v1/users/{id}/deactivate/). "
             "Their incidents, rotations and the change log keep their name.")


class ProfileInline(PortalStackedInline):
    model = Profile
    can_delete = False
    extra = 0


class PortalUserChangeForm(BoundedFormMixin, UserChangeForm):
    pass


class PortalUserCreationForm(BoundedFormMixin, AdminUserCreationForm):
    pass


class PortalUserAdmin(UserAdmin, PortalAdmin):
    """Django's user admin, bounded like every form, without delete: removing a person would take
    their incident roles, rotations and change history with them."""

    form = PortalUserChangeForm
    add_form = PortalUserCreationForm
    inlines = [ProfileInline]
    list_filter = ("is_active", "groups", "is_staff", "is_superuser")

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            messages.info(request, NO_DELETE)
        return super().change_view(request, object_id, form_url, extra_context)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, PortalUserAdmin)
