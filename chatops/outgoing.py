"""What the portal says in a chat is a delivery: the "chat" purpose and one channel per chat.

Each row is one Web API operation (`Message.data["op"]`): create the incident channel, post,
update a post in place, set the topic, invite, pin, keep the pinned summary current, archive.
The row carries ids only (workspace = `destination_id`, incident channel, chat post); the
channel id, the post id and the bot token are resolved when it is sent, so a post queued before
its channel exists waits (retried) and is sent once the channel is there: creating the channel
makes every waiting row of the incident due at once. A 429 (Slack's or Mattermost's) is retried
by the outbox after the answer's `Retry-After`, on every 429, never by sleeping in the worker.

Pages to a person (purpose `paging`) and stakeholder messages (purpose `stakeholders`) use the
same channels with op "dm" / "post": `chatops.routes` composes them."""

import json

from django.db.models import F
from django.utils import timezone

from delivery import outbox, purposes, safetext
from delivery.channels.base import Channel, ChannelError, Destination, InvalidTarget, Receipt, register
from delivery.messages import Message
from delivery.models import Delivery, DeliveryStatus

from . import selectors
from .adapters import ChatError, adapter_for
from .models import MATTERMOST, SLACK, ChatPost, IncidentChannel, Workspace

PURPOSE = "chat"
CHANNEL_KIND = {SLACK: "slack_app", MATTERMOST: "mattermost_app"}


class ChatChannel(Channel):
    chat = ""
    idempotent = False

    @classmethod
    def clean_target(cls, target: str) -> str:
        """A contact method: your chat username (a reminder; the message goes to the account you
        linked). A stakeholder subscription: the channel id, or `<team id>/<channel id>`."""
        target = safetext.line(target or "", 200).strip()
        if not target:
            raise InvalidTarget("Give your chat username (contact method) or the channel id (subscription).")
        return target

    def send(self, message: Message) -> Receipt:
        data = message.data
        adapter = adapter_for(self.chat, self.destination.target, self.destination.secret)
        op, channel = data.get("op"), data.get("channel", "")
        out = {"channel": channel}
        try:
            if op == "create":
                out["channel"] = adapter.create_channel(data["name"], data.get("team", ""))
            elif op == "dm":
                out["channel"], out["ts"] = adapter.dm(data["user"], data["card"])
            elif op == "post" or (op == "summary" and not data.get("ts")):
                out["channel"], out["ts"] = adapter.post(channel, data["card"])
            elif op in ("update", "summary"):
                adapter.update(channel, data["ts"], data["card"])
                out["ts"] = data["ts"]
            elif op == "topic":
                adapter.set_topic(channel, data["topic"])
            elif op == "invite":
                adapter.invite(channel, data["users"])
            elif op == "pin":
                adapter.pin(channel, data["ts"])
            elif op == "archive":
                adapter.archive(channel)
            else:
                raise ChannelError(f"Unknown chat operation {op!r}", permanent=True)
        except ChatError as exc:
            raise ChannelError(exc.message, permanent=exc.permanent, status_code=exc.status_code, retry_after=exc.retry_after) from exc
        return Receipt(200, json.dumps(out))


@register
class SlackAppChannel(ChatChannel):
    kind, label, chat = "slack_app", "Slack app", SLACK


@register
class MattermostChannel(ChatChannel):
    kind, label, chat = "mattermost_app", "Mattermost", MATTERMOST


def destination(row) -> Destination | None:
    workspace = Workspace.objects.filter(pk=row.destination_id, is_active=True).first()
    if workspace is None:
        return None
    return Destination(target=workspace.api_url, secret=workspace.bot_token)


def compose(row) -> Message | None:
    """The stored operation with what is known only now: the channel id, the post's id."""
    message = purposes.stored_message(row)
    data = dict(message.data)
    post = ChatPost.objects.filter(pk=data["post"]).first() if data.get("post") else None
    if row.incident_id and not selectors.may_post(row.incident) and not (post is not None and post.is_direct):
        return None  # a restricted incident says nothing in shared chat (the paged person's own DM is updated)
    ic = IncidentChannel.objects.filter(pk=data.get("ic") or 0).first() if data.get("ic") else None
    if data.get("ic") and ic is None:
        return None
    if ic is not None:
        if data["op"] == "create":
            if ic.channel_id:
                return None  # made already (a retry after the answer was lost is refused by the chat anyway)
            data["team"] = ic.workspace.team_id
        else:
            if not ic.channel_id:
                raise ChannelError("The incident channel is not created yet.")
            if ic.archived_at and data["op"] != "archive":
                return None
            data["channel"] = ic.channel_id
        if data["op"] == "summary":
            data["ts"] = ic.summary_ts
    if data.get("post"):
        if post is None:
            return None
        data["channel"] = post.channel_id
        if data["op"] == "update":
            if not post.ts:
                raise ChannelError("The message to update is not posted yet.")
            data["ts"] = post.ts
    return Message(kind=message.kind, title=message.title, body=message.body, incident_id=message.incident_id, data=data)


def after_sent(row, receipt) -> list:
    data = row.message.get("data") or {}
    try:
        answer = json.loads(receipt.response or "{}")
    except ValueError:
        answer = {}
    now = timezone.now()
    follow = []
    op = data.get("op")
    if op == "create" and answer.get("channel"):
        IncidentChannel.objects.filter(pk=data.get("ic"), channel_id="").update(channel_id=answer["channel"])
        waiting = list(Delivery.objects.filter(purpose=PURPOSE, incident_id=row.incident_id, status=DeliveryStatus.PENDING,
                                               due_at__gt=now).exclude(pk=row.pk))
        Delivery.objects.filter(pk__in=[w.pk for w in waiting], status=DeliveryStatus.PENDING).update(due_at=now)
        for w in waiting:
            w.due_at = now
        follow += waiting
    elif op == "post" and data.get("post") and answer.get("ts"):
        ChatPost.objects.filter(pk=data["post"], ts="").update(ts=answer["ts"])
    elif op == "summary" and answer.get("ts"):
        if IncidentChannel.objects.filter(pk=data.get("ic"), summary_ts="").update(summary_ts=answer["ts"]):
            pin = outbox.create(purpose=PURPOSE, channel=row.channel, target=row.target, dedup_key=f"pin:{data['ic']}",
                                destination_id=row.destination_id, incident_id=row.incident_id,
                                message=Message(kind="chat", title="pin", body="", data={"op": "pin", "ic": data["ic"], "ts": answer["ts"]}))
            follow += [pin] if pin else []
    elif op == "archive":
        IncidentChannel.objects.filter(pk=data.get("ic"), archived_at__isnull=True).update(archived_at=now)
    return follow


def register_purpose() -> None:
    purposes.register(purposes.Purpose(name=PURPOSE, destination=destination, compose=compose, after_sent=after_sent,
                                       label="Chat (Slack app, Mattermost)"))


def queue(workspace: Workspace, *, op: str, key: str, incident=None, due_at=None, title: str = "", **data) -> Delivery | None:
    """One chat operation as a pending delivery row, sent after commit."""
    row = outbox.create(purpose=PURPOSE, channel=CHANNEL_KIND[workspace.kind], target=f"{workspace.kind}:{workspace.name}",
                        dedup_key=key, destination_id=workspace.pk, incident_id=incident.pk if incident is not None else None,
                        due_at=due_at, message=Message(kind="chat", title=title or op, body="",
                                                       incident_id=incident.pk if incident is not None else None,
                                                       data={"op": op, **data}))
    if row is not None:
        outbox.enqueue_on_commit([row])  # due later: an ETA within the horizon, else the sweep
    return row


def cancel_pending(incident, op: str) -> int:
    return Delivery.objects.filter(purpose=PURPOSE, incident=incident, status=DeliveryStatus.PENDING,
                                   message__data__op=op).update(status=DeliveryStatus.CANCELLED, error="No longer wanted.",
                                                                attempts=F("attempts"))
