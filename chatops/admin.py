from django import forms
from django.contrib import admin, messages

from incidents.admin import RecordAdmin, WritesThroughServices
from incidents.bounded import PortalAdmin, PortalModelForm

from . import services
from .adapters import ChatError
from .models import ChatNote, ChatPerson, ChatPost, IncidentChannel, Workspace


class WorkspaceForm(PortalModelForm):
    """Secrets are write-only: never shown back; left empty on a change, the stored one stays."""

    bot_token = forms.CharField(required=False, max_length=300, widget=forms.PasswordInput(render_value=False),
                                help_text="Slack: xoxb-...; Mattermost: the bot's access token. Empty: unchanged.")
    signing_secret = forms.CharField(required=False, max_length=200, widget=forms.PasswordInput(render_value=False),
                                     help_text="Slack only. Empty: unchanged.")
    command_token = forms.CharField(required=False, max_length=200, widget=forms.PasswordInput(render_value=False),
                                    help_text="Mattermost only: the slash command's token. Empty: unchanged.")

    class Meta:
        model = Workspace
        fields = ["kind", "name", "team_id", "api_url", "bot_token", "signing_secret", "command_token", "alerts_channel",
                  "channel_severities", "channel_pattern", "archive_after_minutes", "is_active"]


@admin.register(Workspace)
class WorkspaceAdmin(WritesThroughServices, PortalAdmin):
    form = WorkspaceForm
    list_display = ["name", "kind", "team_id", "is_active"]
    actions = ["test_connection"]

    def create(self, request, form):
        return services.workspace_create(by=request.user, **form.cleaned_data)

    def update(self, request, obj, changes):
        return services.workspace_update(workspace=obj, by=request.user, changes=changes)

    def delete(self, request, obj):
        services.workspace_delete(workspace=obj, by=request.user)

    @admin.action(description="Test connection (calls the chat with the bot token)")
    def test_connection(self, request, queryset):
        for workspace in queryset:
            try:
                who = services.workspace_test(workspace)
            except ChatError as exc:
                self.message_user(request, f"{workspace}: failed: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{workspace}: connected as {who}.", messages.SUCCESS)


@admin.register(ChatPerson)
class ChatPersonAdmin(PortalAdmin):
    list_display = ["chat_user_id", "workspace", "user", "how", "linked_at"]
    readonly_fields = ["workspace", "chat_user_id", "user", "how", "linked_at"]
    exclude = ["link_nonce"]
    actions = ["unlink"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Unlink (commands from this chat user do nothing until linked again)")
    def unlink(self, request, queryset):
        for person in queryset:
            services.person_unlink(person=person, by=request.user)


@admin.register(IncidentChannel)
class IncidentChannelAdmin(PortalAdmin):
    list_display = ["name", "incident", "workspace", "channel_id", "archive_due_at", "archived_at"]
    readonly_fields = ["workspace", "incident", "name", "channel_id", "summary_ts", "archive_due_at", "archived_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False



@admin.register(ChatPost)
class ChatPostAdmin(RecordAdmin):
    """What the chat core posted where: written by it, shown for support."""

    keeps_history = True
    list_display = ["created_at", "workspace", "incident", "channel_id", "key", "ts"]
    list_select_related = ["workspace", "incident"]


@admin.register(ChatNote)
class ChatNoteAdmin(RecordAdmin):
    """Chat messages that became timeline notes: written by the chat core, shown for support."""

    keeps_history = True
    list_display = ["created_at", "workspace", "incident", "channel_id", "ts"]
    list_select_related = ["workspace", "incident"]
