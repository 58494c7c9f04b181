"""Everything configurable in the admin, with inlines."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import F

from incidents.admin import ArchiveInsteadOfDelete
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
from .services.schedules import SCHEDULE_OWNED, schedule_archive


class BumpsScheduleVersion:
    """Admin edits change rules too: bump the schedule's version like the services do."""

    def _schedule_id(self, obj):
        if isinstance(obj, LayerMembership):
            return obj.layer.schedule_id
        return getattr(obj, "schedule_id", None) or getattr(getattr(obj, "layer", None), "schedule_id", None)

    def _bump(self, obj):
        schedule_id = obj.pk if isinstance(obj, Schedule) else self._schedule_id(obj)
        if schedule_id:
            Schedule.objects.filter(pk=schedule_id).update(version=F("version") + 1)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        self._bump(form.instance)

    def delete_model(self, request, obj):
        schedule_id = self._schedule_id(obj)
        super().delete_model(request, obj)
        if schedule_id:
            Schedule.objects.filter(pk=schedule_id).update(version=F("version") + 1)


class LayerInline(PortalStackedInline):
    model = Layer
    extra = 0
    show_change_link = True


class OverrideInline(PortalTabularInline):
    model = Override
    extra = 0
    fk_name = "schedule"
    raw_id_fields = ("user", "replaces", "created_by")


@admin.register(Schedule)
class ScheduleAdmin(ArchiveInsteadOfDelete, BumpsScheduleVersion, PortalAdmin):
    list_display = ("name", "time_zone", "version", "archived_at")
    archive_owned = SCHEDULE_OWNED

    def archive_one(self, obj, by):
        schedule_archive(schedule=obj, by=by)
    search_fields = ("name",)
    inlines = [LayerInline, OverrideInline]


class MembershipInline(PortalTabularInline):
    model = LayerMembership
    extra = 0
    show_change_link = True


class RestrictionInline(PortalTabularInline):
    model = Restriction
    extra = 0


@admin.register(Layer)
class LayerAdmin(BumpsScheduleVersion, PortalAdmin):
    list_display = ("name", "schedule", "position", "rotation", "every", "handoff_time", "starts_on")
    list_filter = ("rotation",)
    inlines = [MembershipInline, RestrictionInline]


class MemberInline(PortalTabularInline):
    model = LayerMember
    extra = 0
    min_num = 1
    raw_id_fields = ("user",)


@admin.register(LayerMembership)
class LayerMembershipAdmin(BumpsScheduleVersion, PortalAdmin):
    list_display = ("layer", "effective_from", "created_at")
    inlines = [MemberInline]


@admin.register(Override)
class OverrideAdmin(BumpsScheduleVersion, PortalAdmin):
    list_display = ("schedule", "user", "start", "end", "layer", "replaces", "reason")
    list_filter = ("schedule",)
    raw_id_fields = ("user", "replaces", "created_by")


class TargetInline(PortalTabularInline):
    model = EscalationTarget
    extra = 0
    min_num = 1
    validate_min = True  # a level with no target is refused


class LevelInline(PortalStackedInline):
    model = EscalationLevel
    extra = 0
    show_change_link = True
    filter_horizontal = ("severities",)


class ServicePolicyInline(PortalTabularInline):
    model = ServicePolicy
    extra = 0


class IntegrationPolicyInline(PortalTabularInline):
    model = IntegrationPolicy
    extra = 0
    verbose_name = "integration override"
    verbose_name_plural = "integrations that start this policy instead of their service's"


class TypePolicyInline(PortalTabularInline):
    model = TypePolicy
    extra = 0
    verbose_name = "incident type"
    verbose_name_plural = "incident types that start this policy in addition to their services'"


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(PortalAdmin):
    list_display = ("name", "repeat")
    inlines = [LevelInline, ServicePolicyInline, IntegrationPolicyInline, TypePolicyInline]


@admin.register(EscalationLevel)
class EscalationLevelAdmin(PortalAdmin):
    list_display = ("policy", "position", "condition", "delay_seconds", "mode")
    inlines = [TargetInline]
    filter_horizontal = ("severities",)


class StepInline(PortalTabularInline):
    model = EscalationStep
    extra = 0
    can_delete = False
    readonly_fields = ("level", "round", "slot", "condition", "targets", "due_at", "status", "fired_at", "notified", "note")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Escalation)
class EscalationAdmin(PortalAdmin):
    list_display = ("pk", "incident", "policy", "state", "started_at", "manual")
    list_filter = ("state", "manual")
    readonly_fields = ("incident", "policy", "trigger_event_id", "snapshot", "started_at", "finished_at", "manual")
    inlines = [StepInline]


@admin.register(Handoff)
class HandoffAdmin(PortalAdmin):
    list_display = ("schedule", "due_at", "outgoing", "incoming", "status", "sent_at")
    list_filter = ("status",)
    readonly_fields = ("report",)


admin.site.register(HandoffNote)
admin.site.register(CalendarToken)


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
