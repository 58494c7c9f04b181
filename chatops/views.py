"""The chats' endpoints: slash commands and button presses from Slack and Mattermost (each
verified as its chat signs it; the only CSRF-exempt views of the app), and the "link your
account" page (signed in).

- Slack: `X-Slack-Signature` over `v0:<timestamp>:<body>` with the workspace's signing secret,
  the timestamp within five minutes (slack_sdk's SignatureVerifier), so a replay is refused.
- Mattermost slash commands: the command's token (constant-time compare); button presses: the
  signed context the portal put on the button (Mattermost does not sign actions).

Every answer is 200 with a message for the person, except a request that is not from the chat
(401) or names no connected workspace (404). Hostile text is never a 500."""

import hmac
import json
import logging

from django.contrib import messages
from django.core import signing
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from slack_sdk.signature import SignatureVerifier

from incidents.exceptions import DomainError

from . import commands, formats, selectors, services
from .models import MATTERMOST, SLACK

logger = logging.getLogger(__name__)
BODY_LIMIT = 64 * 1024


def _ephemeral(text: str) -> JsonResponse:
    return JsonResponse({"response_type": "ephemeral", "text": text})


def _slack_verified(request):
    if len(request.body) > BODY_LIMIT:
        return None, None, HttpResponse("Too large.", status=413)
    body = request.body
    try:
        form = request.POST
    except Exception:  # noqa: BLE001 (a malformed body is the sender's problem)
        return None, None, HttpResponse("Bad request.", status=400)
    team = form.get("team_id", "")
    payload = None
    if "payload" in form:
        try:
            payload = json.loads(form["payload"])
        except ValueError:
            return None, None, HttpResponse("Bad payload.", status=400)
        if not isinstance(payload, dict):
            return None, None, HttpResponse("Bad payload.", status=400)
        team = str((payload.get("team") or {}).get("id", "")) if isinstance(payload.get("team"), dict) else ""
    workspace = selectors.workspace_for(SLACK, team)
    if workspace is None:
        return None, None, HttpResponse("This Slack workspace is not connected to the portal.", status=404)
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    if not workspace.signing_secret or not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) < 12) or not (
            SignatureVerifier(workspace.signing_secret).is_valid(
                body=body, timestamp=timestamp, signature=request.headers.get("X-Slack-Signature", ""))):
        return None, None, HttpResponse("Bad signature.", status=401)
    return workspace, payload if payload is not None else form, None


@csrf_exempt
@require_POST
def slack_commands(request):
    workspace, form, refused = _slack_verified(request)
    if refused:
        return refused
    try:
        person = services.person_for(workspace, form.get("user_id", ""))
    except DomainError as exc:
        return _ephemeral(str(exc))
    ctx = commands.Context(workspace, person, form.get("channel_id", "")[:64], trigger_id=form.get("trigger_id", "")[:200])
    return _ephemeral(commands.answer(ctx, form.get("text", "")))


@csrf_exempt
@require_POST
def slack_interactions(request):
    workspace, payload, refused = _slack_verified(request)
    if refused:
        return refused
    user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
    view = payload.get("view") if isinstance(payload.get("view"), dict) else {}
    if payload.get("type") == "view_submission" and view.get("callback_id") == formats.DECLARE_CALLBACK:
        try:
            person = services.person_for(workspace, str(user.get("id", "")))
        except DomainError as exc:
            return JsonResponse({"response_action": "errors", "errors": {"title": str(exc)}})
        ctx = commands.Context(workspace, person, str(view.get("private_metadata", ""))[:64])
        answer = commands.declare_submitted(ctx, view)
        return JsonResponse(answer) if answer else HttpResponse(status=200)
    if payload.get("type") != "block_actions":
        return HttpResponse(status=200)
    actions = payload.get("actions") if isinstance(payload.get("actions"), list) else []
    action = actions[0] if actions and isinstance(actions[0], dict) else {}
    if action.get("action_id") == "open":
        return HttpResponse(status=200)
    try:
        person = services.person_for(workspace, str(user.get("id", "")))
    except DomainError as exc:
        return _ephemeral(str(exc))
    channel = payload.get("channel") if isinstance(payload.get("channel"), dict) else {}
    ctx = commands.Context(workspace, person, str(channel.get("id", ""))[:64])
    text = commands.press(ctx, str(action.get("action_id", ""))[:20], action.get("value"))
    # The page itself is updated in place (chat.update) by the delivery the action's event queued;
    # the presser sees the outcome at once.
    return _ephemeral(text)


@csrf_exempt
@require_POST
def slack_events(request):
    """Slack's Events API: the URL check, and :pushpin: reactions (handled in a worker: Slack wants
    an answer within three seconds)."""
    if len(request.body) > BODY_LIMIT:
        return HttpResponse("Too large.", status=413)
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return HttpResponse("Bad payload.", status=400)
    if not isinstance(data, dict):
        return HttpResponse("Bad payload.", status=400)
    workspace = selectors.workspace_for(SLACK, str(data.get("team_id", ""))[:64])
    if workspace is None:
        return HttpResponse("This Slack workspace is not connected to the portal.", status=404)
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) < 12) or not SignatureVerifier(workspace.signing_secret).is_valid(
            body=request.body, timestamp=timestamp, signature=request.headers.get("X-Slack-Signature", "")):
        return HttpResponse("Bad signature.", status=401)
    if data.get("type") == "url_verification":
        return JsonResponse({"challenge": str(data.get("challenge", ""))[:200]})
    event = data.get("event") if isinstance(data.get("event"), dict) else {}
    item = event.get("item") if isinstance(event.get("item"), dict) else {}
    if event.get("type") == "reaction_added" and event.get("reaction") == "pushpin" and item.get("type") == "message":
        services.pin_later.enqueue(workspace_id=workspace.pk, chat_user_id=str(event.get("user", ""))[:64],
                                   channel_id=str(item.get("channel", ""))[:64], ts=str(item.get("ts", ""))[:64])
    return HttpResponse(status=200)


def _mm_token_ok(workspace, token: str) -> bool:
    return bool(workspace.command_token) and hmac.compare_digest(workspace.command_token.encode(), (token or "").encode())


@csrf_exempt
@require_POST
def mattermost_commands(request):
    try:
        form = request.POST
    except Exception:  # noqa: BLE001
        return HttpResponse("Bad request.", status=400)
    workspace = selectors.workspace_for(MATTERMOST, form.get("team_id", ""))
    if workspace is None:
        return HttpResponse("This Mattermost team is not connected to the portal.", status=404)
    if not _mm_token_ok(workspace, form.get("token", "")):
        return HttpResponse("Bad token.", status=401)
    try:
        person = services.person_for(workspace, form.get("user_id", ""))
    except DomainError as exc:
        return _ephemeral(str(exc))
    ctx = commands.Context(workspace, person, form.get("channel_id", "")[:64])
    return _ephemeral(commands.answer(ctx, form.get("text", "")))


@csrf_exempt
@require_POST
def mattermost_actions(request):
    try:
        payload = json.loads(request.body[:BODY_LIMIT] or b"{}")
    except ValueError:
        return HttpResponse("Bad payload.", status=400)
    context = payload.get("context") if isinstance(payload, dict) and isinstance(payload.get("context"), dict) else {}
    try:
        action, incident_id, workspace_id = signing.loads(str(context.get("sig", "")), salt=formats.ACTION_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return HttpResponse("Bad signature.", status=401)
    workspace = selectors.Workspace.objects.filter(pk=workspace_id, kind=MATTERMOST, is_active=True).first()
    if workspace is None:
        return HttpResponse("This Mattermost team is not connected to the portal.", status=404)
    try:
        person = services.person_for(workspace, str(payload.get("user_id", "")))
    except DomainError as exc:
        return JsonResponse({"ephemeral_text": str(exc)})
    ctx = commands.Context(workspace, person, str(payload.get("channel_id", ""))[:64])
    return JsonResponse({"ephemeral_text": commands.press(ctx, action, incident_id)})


@require_http_methods(["GET", "POST"])
def link(request, token):
    """A chat user's one-time link: confirm, while signed in, that the chat account is yours."""
    try:
        person = services.link_check(token)
    except DomainError as exc:
        return render(request, "chatops/link.html", {"error": str(exc)}, status=400)
    if request.method == "POST":
        try:
            services.link_confirm(token=token, user=request.user)
        except DomainError as exc:
            return render(request, "chatops/link.html", {"error": str(exc)}, status=400)
        messages.success(request, f"Your {person.workspace.get_kind_display()} account is linked: commands now act as you.")
        return redirect("/")
    return render(request, "chatops/link.html", {"person": person})
