"""Chat workspaces, the people in them, incident channels and the interactive posts.

Design notes:
- Secrets (bot token, signing secret, slash-command token) are stored here and never shown
  back by the admin (write-only fields); deliveries carry only the workspace's id.
- `ChatPerson` maps a chat user to a portal user, either by an email the chat says is
  verified or by a one-time signed link the chat user opened while signed in to the portal.
  `user` null: not mapped; such a person can run no command.
- `IncidentChannel.channel_id` is empty until the chat created the channel (a delivery of
  op "create" fills it in); posts queued before that wait (their delivery retries).
- `ChatPost` is a message with buttons (a page): its chat id (`ts` / post id) is filled in
  once sent, so a button press or a later acknowledgement updates it in place. A page sent as
  the bot's direct message (key `dm:<delivery>`) learns its channel id when it is sent too."""

import secrets

from django.conf import settings
from django.db import models

SLACK, MATTERMOST = "slack", "mattermost"


class Workspace(models.Model):
    KINDS = [(SLACK, "Slack"), (MATTERMOST, "Mattermost")]

    kind = models.CharField(max_length=12, choices=KINDS)
    name = models.CharField(max_length=100)
    team_id = models.CharField(max_length=64, help_text="Slack: the team id (T...). Mattermost: the team id the channels go in.")
    api_url = models.URLField(
        max_length=300, blank=True,
        help_text="Slack: the Web API base (empty: https://slack.com/api/). Mattermost: the server URL (https://chat.example.com).")
    bot_token = models.CharField(max_length=300, help_text="Slack: xoxb-... Mattermost: the bot account's access token.")
    signing_secret = models.CharField(max_length=200, blank=True, help_text="Slack: the app's signing secret.")
    command_token = models.CharField(max_length=200, blank=True, help_text="Mattermost: the slash command's token.")
    alerts_channel = models.CharField(max_length=64, blank=True, help_text="Channel id where pages with buttons are posted.")
    channel_severities = models.CharField(
        max_length=100, blank=True, default="P0,P1",
        help_text="Severity keys (comma-separated) whose incidents get a channel of their own when declared.")
    channel_pattern = models.CharField(
        max_length=100, default="inc-{date}-{seq}-{slug}",
        help_text="Incident channel names: {date} (20261130), {seq} (007), {slug} (from the title), {number}.")
    archive_after_minutes = models.PositiveIntegerField(default=24 * 60, help_text="Archive the channel this long after resolution.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "team_id"], name="chat_workspace_once")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.name}"

    def severities(self) -> set[str]:
        return {k.strip().upper() for k in self.channel_severities.split(",") if k.strip()}


class ChatPerson(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="people")
    chat_user_id = models.CharField(max_length=64)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="chat_people",
                             help_text="Empty: not mapped (a deleted portal user leaves the chat user unmapped).")
    how = models.CharField(max_length=10, blank=True, help_text="email or link: how the mapping was made.")
    link_nonce = models.CharField(max_length=32, blank=True, help_text="The open one-time link's nonce (empty: none open).")
    linked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "chat_user_id"], name="chat_person_once")]

    def __str__(self):
        return f"{self.chat_user_id} -> {self.user or 'unmapped'}"

    def new_nonce(self) -> str:
        self.link_nonce = secrets.token_hex(16)
        return self.link_nonce


class IncidentChannel(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="incident_channels")
    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="chat_channels")
    name = models.CharField(max_length=80)
    channel_id = models.CharField(max_length=64, blank=True)
    summary_ts = models.CharField(max_length=64, blank=True, help_text="The pinned summary message's id.")
    archive_due_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "incident"], name="one_channel_per_incident"),
            models.UniqueConstraint(fields=["workspace", "channel_id"], condition=~models.Q(channel_id=""), name="chat_channel_id_once"),
        ]

    def __str__(self):
        return self.name


class ChatPost(models.Model):
    """A message with buttons (a page) whose chat id is kept to update it in place."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="posts")
    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="chat_posts")
    channel_id = models.CharField(max_length=64)
    ts = models.CharField(max_length=64, blank=True)
    key = models.CharField(max_length=100, help_text="What it was posted for (one post per key and workspace).")
    buttons = models.CharField(max_length=60, default="ack,resolve,escalate",
                               help_text="The actions it may offer besides Open (as the incident's state allows).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "ts"], name="chat_post_ts")]
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="chat_post_once")]

    def __str__(self):
        return f"{self.key} in {self.channel_id}"

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(a for a in self.buttons.split(",") if a)

    @property
    def is_direct(self) -> bool:
        """A direct message to the paged person (not a shared channel)."""
        return self.key.startswith("dm:")


class ChatNote(models.Model):
    """A channel message added to the incident's timeline (a :pushpin: reaction on Slack): once."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="notes")
    channel_id = models.CharField(max_length=64)
    ts = models.CharField(max_length=64)
    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="chat_notes")
    event = models.ForeignKey("incidents.TimelineEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "channel_id", "ts"], name="chat_note_once")]

    def __str__(self):
        return f"{self.channel_id}/{self.ts}"
