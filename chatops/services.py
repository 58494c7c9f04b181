"""State changes of the chat core: who a chat user is, the incident channel's life, the pages
with buttons. Every chat call they cause is a delivery row (`chatops.outgoing.queue`)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from delivery.durable import LateTask
from incidents.audit import audit_record
from incidents.exceptions import InvalidInput, InvalidTransition
from incidents.models import Incident, IncidentStatus, Role
from incidents.selectors import role_holders
from incidents.services import incident_add_note, timeline_record

from . import formats, outgoing, selectors
from .adapters import ChatError, for_workspace
from .models import ChatNote, ChatPerson, ChatPost, IncidentChannel, Workspace

logger = logging.getLogger(__name__)

# Bound by ChatopsConfig.ready() to chatops.tasks.pin_to_timeline_task.
pin_later = LateTask("chat pin to timeline")

LINK_SALT = "chatops.link"
LINK_MAX_AGE = 3600


# --- people -----------------------------------------------------------------------------------


def person_for(workspace: Workspace, chat_user_id: str) -> ChatPerson:
    """The chat user's mapping, made by verified email the first time they are seen when the chat
    says their address is verified and exactly one active portal user has it."""
    chat_user_id = (chat_user_id or "").strip()[:64]
    if not chat_user_id:
        raise InvalidInput("No chat user in the request.")
    person, _ = ChatPerson.objects.get_or_create(workspace=workspace, chat_user_id=chat_user_id)
    if person.user_id is None:
        try:
            email, verified = for_workspace(workspace).person(chat_user_id)
        except ChatError as exc:
            logger.info("chat user %s of %s: no profile (%s)", chat_user_id, workspace.pk, exc.message)
            return person
        user = selectors.user_by_verified_email(email) if verified else None
        if user is not None:
            with transaction.atomic():
                if ChatPerson.objects.filter(pk=person.pk, user__isnull=True).update(user=user, how="email", linked_at=timezone.now()):
                    logger.info("chat user %s of workspace %s mapped to %s by verified email", chat_user_id, workspace.pk, user.pk)
            person.refresh_from_db()
    return person


def link_url(person: ChatPerson) -> str:
    """A one-time URL (an hour) that maps this chat user to whoever opens it signed in."""
    nonce = person.new_nonce()
    person.save(update_fields=["link_nonce"])
    token = signing.dumps([person.pk, nonce], salt=LINK_SALT, compress=True)
    return settings.SITE_URL + reverse("chatops:link", args=[token])


def link_check(token: str) -> ChatPerson:
    try:
        pk, nonce = signing.loads(token, salt=LINK_SALT, max_age=LINK_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise InvalidInput("This link is not valid or has expired; run /incident again for a new one.") from exc
    person = ChatPerson.objects.select_related("workspace").filter(pk=pk).first()
    if person is None or not nonce or person.link_nonce != nonce:
        raise InvalidInput("This link was used already or replaced by a newer one.")
    return person


@transaction.atomic
def link_confirm(*, token: str, user) -> ChatPerson:
    person = link_check(token)
    nonce = person.link_nonce
    if not ChatPerson.objects.filter(pk=person.pk, link_nonce=nonce).update(user=user, how="link", link_nonce="", linked_at=timezone.now()):
        raise InvalidInput("This link was used already.")
    person.refresh_from_db()
    audit_record(obj=person, action="changed", by=user, message=f"Linked chat user {person.chat_user_id} to {user.get_username()}")
    return person


# --- incident channel -----------------------------------------------------------------------------


def _summary_card(incident: Incident) -> dict:
    holders = role_holders(incident)
    commander = holders.get(Role.COMMANDER)
    fields = [("Severity", incident.severity.key if incident.severity_id else "-"), ("Status", incident.get_status_display()),
              ("Commander", (commander.get_full_name() or commander.get_username()) if commander else "unassigned")]
    if incident.war_room_url:
        fields.append(("Bridge", incident.war_room_url))
    return formats.card(title=f"{incident.number}: {incident.title}", text=incident.summary, fields=fields,
                        url=settings.SITE_URL + incident.get_absolute_url(), incident=incident.pk)


def _topic(incident: Incident) -> str:
    holders = role_holders(incident)
    commander = holders.get(Role.COMMANDER)
    parts = [incident.severity.key if incident.severity_id else "", incident.get_status_display(),
             f"IC {commander.get_full_name() or commander.get_username()}" if commander else "IC unassigned"]
    if incident.war_room_url:
        parts.append(incident.war_room_url)
    return " | ".join(p for p in parts if p)


def channel_open(*, workspace: Workspace, incident: Incident, by=None) -> IncidentChannel:
    """The incident's channel in this workspace (made once), with its topic, pinned summary and
    the people assigned so far invited."""
    if not selectors.may_post(incident):
        raise InvalidTransition("This incident is restricted: it gets no shared chat channel.")
    if incident.status == IncidentStatus.RESOLVED:
        raise InvalidTransition("The incident is resolved.")
    with transaction.atomic():
        ic, made = IncidentChannel.objects.get_or_create(
            workspace=workspace, incident=incident,
            defaults={"name": formats.channel_name(workspace.kind, workspace.channel_pattern, incident)})
        if not made:
            return ic
        outgoing.queue(workspace, op="create", key=f"create:{ic.pk}", incident=incident, ic=ic.pk, name=ic.name)
        channel_refresh(ic)
        members = [m.user for m in incident.members.select_related("user")]
        channel_invite(ic, members)
        timeline_record(incident=incident, kind="chat.channel", by=by, dispatch=False,
                        message=f"Chat channel #{ic.name} opened in {workspace.get_kind_display()} {workspace.name}",
                        data={"workspace": workspace.pk, "channel": ic.pk})
    return ic


def channel_refresh(ic: IncidentChannel) -> None:
    """Topic and pinned summary as the incident is now (one row per incident version)."""
    incident = Incident.objects.select_related("severity").get(pk=ic.incident_id)
    outgoing.queue(ic.workspace, op="topic", key=f"topic:{ic.pk}:{incident.version}", incident=incident, ic=ic.pk, topic=_topic(incident))
    outgoing.queue(ic.workspace, op="summary", key=f"summary:{ic.pk}:{incident.version}", incident=incident, ic=ic.pk,
                   card=for_chat(ic.workspace, _summary_card(incident)))


def channel_invite(ic: IncidentChannel, users) -> None:
    ids = selectors.chat_ids_of(ic.workspace, users)
    if ids:
        outgoing.queue(ic.workspace, op="invite", key=f"invite:{ic.pk}:{','.join(sorted(ids))}", incident=ic.incident, ic=ic.pk, users=ids)


def channel_archive_later(ic: IncidentChannel, resolved_at) -> None:
    due = resolved_at + timedelta(minutes=ic.workspace.archive_after_minutes)
    IncidentChannel.objects.filter(pk=ic.pk).update(archive_due_at=due)
    outgoing.queue(ic.workspace, op="archive", key=f"archive:{ic.pk}:{resolved_at.isoformat()}", incident=ic.incident, ic=ic.pk, due_at=due)


def for_chat(workspace: Workspace, card: dict) -> dict:
    if workspace.kind == "mattermost":
        card = {**card, "action_url": settings.SITE_URL + reverse("chatops:mattermost_actions"), "workspace": workspace.pk}
    return card


# --- pages with buttons -------------------------------------------------------------------------------


PAGE_ACTIONS = ("ack", "resolve", "escalate")


def page_card(incident: Incident, actions=PAGE_ACTIONS) -> dict:
    """The page as the incident is now: Acknowledge, Resolve, Escalate now (those of `actions`
    the state allows) and Open; once acknowledged or resolved, who did it and when."""
    incident = Incident.objects.select_related("severity", "acknowledged_by", "resolved_by").get(pk=incident.pk)
    footer = ""
    buttons = [("ack", "Acknowledge"), ("resolve", "Resolve"), ("escalate", "Escalate now")]
    if incident.status == IncidentStatus.RESOLVED:
        who = incident.resolved_by.get_full_name() or incident.resolved_by.get_username() if incident.resolved_by_id else "someone"
        footer = f"Resolved by {who} at {timezone.localtime(incident.resolved_at):%Y-%m-%d %H:%M %Z}"
        buttons = []
    elif incident.last_acknowledged_at:
        who = incident.acknowledged_by.get_full_name() or incident.acknowledged_by.get_username() if incident.acknowledged_by_id else "someone"
        footer = f"Acknowledged by {who} at {timezone.localtime(incident.last_acknowledged_at):%Y-%m-%d %H:%M %Z}"
        buttons = [("resolve", "Resolve"), ("escalate", "Escalate now")]
    buttons = [b for b in buttons if b[0] in actions]
    return formats.card(title=f"[{incident.severity.key}] {incident.number}: {incident.title}" if incident.severity_id else incident.title,
                        text=incident.summary, fields=[("Status", incident.get_status_display())],
                        url=settings.SITE_URL + incident.get_absolute_url(), buttons=buttons, incident=incident.pk, footer=footer)


def page_post(*, workspace: Workspace, incident: Incident, channel_id: str, key: str) -> ChatPost | None:
    if not channel_id or not selectors.may_post(incident):
        return None
    post, made = ChatPost.objects.get_or_create(workspace=workspace, key=key[:100], defaults={"incident": incident, "channel_id": channel_id})
    if not made:
        return post
    outgoing.queue(workspace, op="post", key=f"page:{key}", incident=incident, post=post.pk, card=for_chat(workspace, page_card(incident)))
    return post


def pages_refresh(incident: Incident, *, direct_only: bool = False) -> None:
    """Every page of the incident (in the alerts channel, a stakeholder channel, a paged person's
    direct message) shows who acknowledged or resolved it, and when (in place)."""
    posts = ChatPost.objects.filter(incident=incident).select_related("workspace")
    if direct_only:
        posts = posts.filter(key__startswith="dm:")
    for post in posts:
        outgoing.queue(post.workspace, op="update", key=f"page-update:{post.pk}:{incident.version}", incident=incident, post=post.pk,
                       card=for_chat(post.workspace, page_card(incident, post.actions)))


def post_line(ic: IncidentChannel, *, key: str, title: str, text: str = "") -> None:
    outgoing.queue(ic.workspace, op="post", key=key, incident=ic.incident, ic=ic.pk, card=for_chat(ic.workspace, formats.card(title=title, text=text)))


# --- workspaces (the admin) ------------------------------------------------------------------------

SECRETS = ("bot_token", "signing_secret", "command_token")
WORKSPACE_FIELDS = ("kind", "name", "team_id", "api_url", "alerts_channel", "channel_severities", "channel_pattern",
                    "archive_after_minutes", "is_active", *SECRETS)


def _check_workspace(workspace: Workspace) -> None:
    if workspace.kind == "slack" and not workspace.signing_secret:
        raise InvalidInput("A Slack workspace needs the app's signing secret.", field="signing_secret")
    if workspace.kind == "mattermost":
        if not workspace.api_url:
            raise InvalidInput("A Mattermost workspace needs the server URL.", field="api_url")
        if not workspace.command_token:
            raise InvalidInput("A Mattermost workspace needs the slash command's token.", field="command_token")
    if not workspace.bot_token:
        raise InvalidInput("The bot token is required.", field="bot_token")


@transaction.atomic
def workspace_create(*, by, **fields) -> Workspace:
    workspace = Workspace(**{k: v for k, v in fields.items() if k in WORKSPACE_FIELDS})
    _check_workspace(workspace)
    if Workspace.objects.filter(kind=workspace.kind, team_id=workspace.team_id).exists():
        raise InvalidInput("This team is connected already.", field="team_id")
    workspace.save()
    audit_record(by=by, obj=workspace, action="added", message=f"Connected {workspace}")
    return workspace


@transaction.atomic
def workspace_update(*, workspace: Workspace, by, changes: dict) -> Workspace:
    """Empty secrets in `changes` keep the stored ones (the admin never shows them back)."""
    changed = []
    for name, value in changes.items():
        if name not in WORKSPACE_FIELDS or (name in SECRETS and not value):
            continue
        setattr(workspace, name, value)
        changed.append(name)
    if not changed:
        return workspace
    _check_workspace(workspace)
    workspace.save(update_fields=changed)
    audit_record(by=by, obj=workspace, action="changed", message="Changed " + ", ".join(sorted(changed)) + ".")
    return workspace


@transaction.atomic
def workspace_delete(*, workspace: Workspace, by) -> None:
    audit_record(by=by, obj=workspace, action="deleted", message=f"Disconnected {workspace}")
    workspace.delete()


def workspace_test(workspace: Workspace) -> str:
    """Call the chat with the bot's token ("test connection"); raises ChatError."""
    return for_workspace(workspace).auth_test()


@transaction.atomic
def person_unlink(*, person: ChatPerson, by) -> None:
    audit_record(by=by, obj=person, action="changed", message=f"Unlinked chat user {person.chat_user_id}")
    ChatPerson.objects.filter(pk=person.pk).update(user=None, how="", link_nonce="", linked_at=None)


def pin_to_timeline(*, workspace_id: int, chat_user_id: str, channel_id: str, ts: str) -> bool:
    """A :pushpin: on a message of an incident channel adds the message to the timeline, as the
    mapped person who reacted (with their permission to respond), once per message."""
    workspace = Workspace.objects.filter(pk=workspace_id, is_active=True).first()
    incident = selectors.incident_in_channel(workspace, channel_id) if workspace else None
    if incident is None or ChatNote.objects.filter(workspace=workspace, channel_id=channel_id, ts=ts).exists():
        return False
    person = person_for(workspace, chat_user_id)
    if person.user is None or not person.user.has_perm("incidents.respond_incident"):
        return False
    text, author = for_workspace(workspace).message_text(channel_id, ts)
    if not text.strip():
        return False
    with transaction.atomic():
        note, made = ChatNote.objects.get_or_create(workspace=workspace, channel_id=channel_id, ts=ts, defaults={"incident": incident})
        if not made:
            return False
        event = incident_add_note(incident=incident, body=f"(pinned from chat) {text}"[:10_000], by=person.user)
        ChatNote.objects.filter(pk=note.pk).update(event=event)
    return True
