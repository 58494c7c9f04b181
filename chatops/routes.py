"""Pages and stakeholder messages sent by the chat apps (registered with
`oncall.notifications.routes` in ChatopsConfig.ready()).

- A page to a person whose contact method is Slack (incoming webhook or the Slack app) goes as
  the Slack app's direct message when the person has linked their Slack account
  (conversations.open, chat.postMessage); a Mattermost contact method goes as the bot's direct
  message (POST /channels/direct, POST /posts). No link: the webhook as before, or (a chat app
  method) a permanent failure, so the person's next contact method is tried.
- A stakeholder subscription of kind Slack app / Mattermost bot is a channel the bot posts in
  (target: the channel id, or `<team id>/<channel id>` when several workspaces are connected).

The message carries the buttons (Acknowledge, Resolve, Escalate now, Open) as a `ChatPost`, so
the presses act as the mapped person who pressed them (chatops.commands.press) and the message
is updated in place (chatops.services.pages_refresh) to show who acknowledged and when. The
rows keep their purpose: rate limits, cancellation, fallback and rows on the incident as ever."""

import json

from delivery.channels import ChannelError, Destination
from delivery.messages import Message
from incidents.models import Incident
from oncall.notifications import routes as notification_routes
from oncall.notifications.models import ChannelKind

from . import formats, services
from .models import MATTERMOST, SLACK, ChatPerson, ChatPost, Workspace
from .outgoing import CHANNEL_KIND

# Contact-method and subscription kinds each chat can take over.
METHOD_CHAT = {ChannelKind.SLACK: SLACK, ChannelKind.SLACK_APP: SLACK, ChannelKind.MATTERMOST_APP: MATTERMOST}
SUBSCRIPTION_CHAT = {ChannelKind.SLACK_APP: SLACK, ChannelKind.MATTERMOST_APP: MATTERMOST}


def linked_person(user_id, chat: str) -> ChatPerson | None:
    """The person's linked account in an active workspace of this chat (the first linked)."""
    if user_id is None:
        return None
    return (ChatPerson.objects.select_related("workspace")
            .filter(user_id=user_id, workspace__kind=chat, workspace__is_active=True).order_by("linked_at", "pk").first())


def person(method):
    chat = METHOD_CHAT.get(method.kind)
    linked = linked_person(method.user_id, chat) if chat else None
    if linked is None:
        return None
    workspace = linked.workspace
    return (CHANNEL_KIND[chat], f"{workspace.get_kind_display()} direct message ({workspace.name})",
            {"workspace": workspace.pk, "user": linked.chat_user_id})


def subscription(sub):
    chat = SUBSCRIPTION_CHAT.get(sub.kind)
    if chat is None:
        return None
    team, _, channel = sub.target.strip().rpartition("/")
    workspaces = Workspace.objects.filter(kind=chat, is_active=True).order_by("pk")
    workspace = workspaces.filter(team_id=team).first() if team else workspaces.first()
    if workspace is None or not channel:
        return None
    return CHANNEL_KIND[chat], f"{workspace.get_kind_display()} {workspace.name}: {channel}", {"workspace": workspace.pk, "channel": channel}


def _route(row) -> dict:
    return row.message["data"]["route"]


def destination(row) -> Destination:
    data = _route(row)
    workspace = Workspace.objects.filter(pk=data.get("workspace"), is_active=True).first()
    if workspace is None:
        raise ChannelError("The chat workspace is disconnected.", permanent=True)
    if data.get("user") and not ChatPerson.objects.filter(workspace=workspace, chat_user_id=data["user"], user_id=row.user_id).exists():
        raise ChannelError("The chat account is no longer linked to this person.", permanent=True)
    return Destination(target=workspace.api_url, secret=workspace.bot_token)


def compose(row, message: Message, actions) -> Message:
    """The chat operation: a direct message to the person, or a post in the subscription's
    channel; with buttons (a ChatPost, updated in place later) when it is about an incident."""
    data = _route(row)
    workspace = Workspace.objects.get(pk=data["workspace"])
    direct = bool(data.get("user"))
    op = {"op": "dm", "user": data["user"]} if direct else {"op": "post", "channel": data["channel"]}
    incident = Incident.objects.filter(pk=message.incident_id).first() if message.incident_id else None
    if incident is None:
        card = formats.card(title=message.headline, text=message.body, url=message.url)
        return Message(kind=message.kind, title=message.title, body=message.body, data={**op, "card": services.for_chat(workspace, card)})
    post, _ = ChatPost.objects.get_or_create(
        workspace=workspace, key=f"{'dm' if direct else 'sub'}:{row.pk}",
        defaults={"incident": incident, "channel_id": "" if direct else data["channel"], "buttons": ",".join(actions)})
    card = services.page_card(incident, post.actions)
    if message.title:  # what this message says (paged by whom, the stakeholder update); the buttons as the incident is now
        card["title"] = formats.card(title=message.headline)["title"]
    if message.body and not direct:
        card["text"] = formats.card(title="", text=message.body)["text"]
    return Message(kind=message.kind, title=message.title, body=message.body, incident_id=message.incident_id,
                   data={**op, "post": post.pk, "card": services.for_chat(workspace, card)})


def sent(row, receipt) -> list:
    """The chat's ids of the post, for its in-place updates."""
    try:
        answer = json.loads(receipt.response or "{}")
    except ValueError:
        return []
    key = f"dm:{row.pk}" if _route(row).get("user") else f"sub:{row.pk}"
    if isinstance(answer, dict) and answer.get("ts"):
        fields = {"ts": str(answer["ts"])[:64]}
        if answer.get("channel"):
            fields["channel_id"] = str(answer["channel"])[:64]
        ChatPost.objects.filter(workspace_id=_route(row)["workspace"], key=key, ts="").update(**fields)
    return []


def register() -> None:
    notification_routes.register(notification_routes.Route(
        channels=tuple(CHANNEL_KIND.values()), person=person, subscription=subscription, destination=destination,
        compose=compose, sent=sent))
