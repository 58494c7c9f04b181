from django.contrib import admin, messages

from incidents.admin import HTTPS_URLS, WritesThroughServices
from incidents.bounded import PortalAdmin, PortalModelForm, PortalStackedInline, PortalTabularInline
from incidents.exceptions import DomainError

from . import configuration, gamedays, services
from .models import (
    ActionItem,
    GameDay,
    GameDayFeedToken,
    Postmortem,
    PostmortemSection,
    PostmortemTemplate,
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


class TemplateForm(PortalModelForm):
    def _get_validation_exclusions(self):
        # "Default" is a choice, not a clash: the service moves the flag off the previous default.
        return {*super()._get_validation_exclusions(), "is_default"}


@admin.register(PostmortemTemplate)
class PostmortemTemplateAdmin(WritesThroughServices, PortalAdmin):
    """Templates, their sections and the severities that use them, through
    postmortems.configuration (one default, audited; a template in use is kept)."""

    form = TemplateForm
    list_display = ["name", "is_default", "created_at"]
    search_fields = ["name", "description"]
    inlines = [TemplateSectionInline, SeverityTemplateInline]

    def create(self, request, form):
        fields = {f: form.cleaned_data[f] for f in configuration.TEMPLATE_FIELDS if f in form.cleaned_data}
        return configuration.template_create(by=request.user, **fields)

    def update(self, request, obj, changes):
        configuration.template_update(template=obj, by=request.user, **changes)

    def delete(self, request, obj):
        configuration.template_delete(template=obj, by=request.user)

    def inline_templatesection_create(self, request, template, section):
        configuration.template_section_add(template=template, by=request.user,
                                           **{f: getattr(section, f) for f in configuration.SECTION_FIELDS})

    def inline_templatesection_update(self, request, template, section, changes):
        configuration.template_section_update(section=section, by=request.user, **changes)

    def inline_templatesection_delete(self, request, template, section):
        configuration.template_section_delete(section=section, by=request.user)

    def inline_severitytemplate_create(self, request, template, choice):
        configuration.severity_template_set(severity=choice.severity, template=template, by=request.user)

    def inline_severitytemplate_update(self, request, template, choice, changes):
        configuration.severity_template_update(choice=choice, by=request.user, **changes)

    def inline_severitytemplate_delete(self, request, template, choice):
        configuration.severity_template_delete(choice=choice, by=request.user)


@admin.register(SeverityTemplate)
class SeverityTemplateAdmin(WritesThroughServices, PortalAdmin):
    list_display = ["severity", "template"]

    def create(self, request, form):
        return configuration.severity_template_set(severity=form.cleaned_data.get("severity"),
                                                   template=form.cleaned_data.get("template"), by=request.user)

    def update(self, request, obj, changes):
        configuration.severity_template_update(choice=obj, by=request.user, **changes)

    def delete(self, request, obj):
        configuration.severity_template_delete(choice=obj, by=request.user)


class PostmortemSectionInline(PortalStackedInline):
    """Section bodies, saved through `postmortem_update` (a draft or in review only)."""

    model = PostmortemSection
    extra = 0
    can_delete = False
    fields = ["position", "key", "title", "group", "required", "body"]
    readonly_fields = ["position", "key", "title", "group", "required"]

    def has_add_permission(self, request, obj=None):
        return False


class ActionItemInline(PortalTabularInline):
    formfield_overrides = HTTPS_URLS
    model = ActionItem
    extra = 0
    fields = ["title", "owner", "due_date", "category", "priority", "status", "ticket_url"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


POSTMORTEM_FIELDS = ("title", "owner", "due_at", "reviewers", "review_meeting_at", "review_meeting_place", "public_summary")


@admin.register(Postmortem)
class PostmortemAdmin(WritesThroughServices, PortalAdmin):
    """Postmortems through their services (the timeline entry, the reminders, the editable-only-
    until-published rule); a postmortem is the incident's record: not deleted."""

    list_display = ["incident", "title", "status", "owner", "due_at", "published_at", "automatic"]
    list_filter = ["status", "automatic", "template"]
    search_fields = ["incident__number", "title"]
    raw_id_fields = ["incident"]
    filter_horizontal = ["reviewers"]
    readonly_fields = ["status", "submitted_at", "published_at", "published_by", "created_at", "created_by", "automatic"]
    inlines = [PostmortemSectionInline, ActionItemInline]
    actions = ["publish"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "incident", "template"] if obj is not None else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    def create(self, request, form):
        data = form.cleaned_data
        return services.postmortem_create(incident=data["incident"], by=request.user, owner=data.get("owner"), due_at=data.get("due_at"),
                                          template=data.get("template"), reviewers=data.get("reviewers", ()))

    def update(self, request, obj, changes):
        services.postmortem_update(postmortem=obj, by=request.user, **{f: v for f, v in changes.items() if f in POSTMORTEM_FIELDS})

    def inline_postmortemsection_update(self, request, postmortem, section, changes):
        if "body" in changes:
            services.postmortem_update(postmortem=postmortem, by=request.user, sections={section.key: changes["body"]})

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
class ActionItemAdmin(WritesThroughServices, PortalAdmin):
    """Action items through their services (checks, the incident's timeline); closed with the
    status "Won't do", never deleted."""

    formfield_overrides = HTTPS_URLS
    list_display = ["title", "incident", "owner", "due_date", "category", "priority", "status"]
    list_filter = ["status", "category", "priority"]
    search_fields = ["title", "description", "incident__number", "owner__username"]
    raw_id_fields = ["incident", "postmortem"]
    readonly_fields = ["created_at", "created_by", "completed_at"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "incident", "postmortem"] if obj is not None else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    def create(self, request, form):
        data = form.cleaned_data
        return services.action_item_create(
            incident=data["incident"], postmortem=data.get("postmortem"), by=request.user,
            **{f: data[f] for f in services.ITEM_FIELDS if f in data and f != "status"},
        )

    def update(self, request, obj, changes):
        services.action_item_update(item=obj, by=request.user, **changes)


GAME_DAY_FIELDS = gamedays.EDITABLE


@admin.register(GameDay)
class GameDayAdmin(WritesThroughServices, PortalAdmin):
    """Game days through their services (checks, audit, the participants' reminders); started,
    closed and cancelled by their actions, never deleted (their drills keep the record)."""

    formfield_overrides = HTTPS_URLS
    list_display = ["title", "starts_at", "time_zone", "status", "facilitator", "outcome"]
    list_filter = ["status", "outcome"]
    search_fields = ["title", "scenario"]
    filter_horizontal = ["participants"]
    fields = ["title", "scenario", "starts_at", "ends_at", "time_zone", "runbook", "runbook_url", "severity", "facilitator",
              "participants", "status", "incidents", "learnt", "outcome", "started_at", "completed_at", "cancelled_at", "cancel_reason",
              "created_at", "created_by"]
    readonly_fields = ["status", "incidents", "learnt", "outcome", "started_at", "completed_at", "cancelled_at", "cancel_reason",
                       "created_at", "created_by"]
    actions = ["start", "cancel"]

    def has_delete_permission(self, request, obj=None):
        return False

    def create(self, request, form):
        data = form.cleaned_data
        return gamedays.game_day_create(by=request.user, **{f: data[f] for f in GAME_DAY_FIELDS if f in data and data[f] is not None})

    def update(self, request, obj, changes):
        gamedays.game_day_update(game_day=obj, by=request.user, **{f: v for f, v in changes.items() if f in GAME_DAY_FIELDS})

    @admin.action(description="Start the selected game days (declares their drill)", permissions=["change"])
    def start(self, request, queryset):
        for game_day in queryset:
            try:
                incident = gamedays.game_day_start(game_day=game_day, by=request.user)
            except DomainError as exc:
                self.message_user(request, f"{game_day}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{game_day}: drill {incident.number} declared.", messages.SUCCESS)

    @admin.action(description="Cancel the selected game days", permissions=["change"])
    def cancel(self, request, queryset):
        for game_day in queryset:
            try:
                gamedays.game_day_cancel(game_day=game_day, by=request.user, reason="Cancelled in the admin.")
            except DomainError as exc:
                self.message_user(request, f"{game_day}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{game_day} cancelled.", messages.SUCCESS)


@admin.register(GameDayFeedToken)
class GameDayFeedTokenAdmin(PortalAdmin):
    """Secret calendar addresses: rotated by their owner on the game-days page, never typed in."""

    list_display = ["user", "created_at"]
    exclude = ["token"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
