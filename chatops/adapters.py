"""The two chats behind one interface: `adapter_for(kind, api_url, token)`.

    adapter.auth_test() -> str                       who the bot is (the admin's "test connection")
    adapter.person(chat_user_id) -> (email, verified)
    adapter.post(channel, card) -> (channel, id)     a card from chatops.formats
    adapter.dm(chat_user_id, card) -> (channel, id)  a direct message from the bot (a page)
    adapter.update(channel, id, card)
    adapter.create_channel(name, team_id) -> id
    adapter.set_topic(channel, text)
    adapter.invite(channel, chat_user_ids)
    adapter.pin(channel, id)
    adapter.archive(channel)                         Slack: archived; Mattermost: archived (read-only)

Slack goes through the official `slack_sdk` WebClient (any base URL: a test server, a proxy);
Mattermost through its REST API v4 with the bot's token. Failures raise
`ChatError(permanent=..., retry_after=...)`: a 429 is not waited out here (that would hold a
worker asleep) but handed to the delivery layer with its `Retry-After`, which retries the row
after that long, on every 429."""

import json
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from delivery.netguard import retry_after_seconds

from . import formats
from .models import MATTERMOST, SLACK

SLACK_API = "https://slack.com/api/"
TIMEOUT = 10
# Slack errors retrying cannot fix.
SLACK_PERMANENT = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "channel_not_found",
                   "is_archived", "invalid_blocks", "msg_too_long", "missing_scope", "not_in_channel",
                   "cant_update_message", "message_not_found", "invalid_name", "user_not_found"}


class ChatError(Exception):
    def __init__(self, message: str, *, permanent: bool = False, status_code: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.message, self.permanent, self.status_code, self.retry_after = message, permanent, status_code, retry_after


def _header(headers, name: str):
    """One header of a response, whatever the case of its name (slack_sdk keeps lists)."""
    for key, value in dict(headers or {}).items():
        if str(key).lower() == name.lower():
            return value[0] if isinstance(value, list | tuple) and value else value
    return None


class SlackAdapter:
    def __init__(self, api_url: str, token: str):
        self.client = WebClient(token=token, base_url=api_url or SLACK_API, timeout=TIMEOUT)

    def _call(self, method: str, **kwargs) -> dict:
        try:
            return self.client.api_call(method, json=kwargs).data
        except SlackApiError as exc:
            error = str(exc.response.get("error", "")) if isinstance(exc.response.data, dict) else ""
            status = exc.response.status_code
            wait = retry_after_seconds(_header(exc.response.headers, "Retry-After")) if status == 429 or error == "ratelimited" else None
            if (status == 429 or error == "ratelimited") and wait is None:
                wait = 30.0  # Slack always sends one; a proxy may not
            raise ChatError(f"Slack {method}: {error or status}", permanent=error in SLACK_PERMANENT, status_code=status,
                            retry_after=wait) from exc
        except (SlackClientError, OSError) as exc:
            raise ChatError(f"Slack {method}: {exc}") from exc

    def auth_test(self) -> str:
        data = self._call("auth.test")
        return f"{data.get('user', '?')} in {data.get('team', '?')}"

    def person(self, chat_user_id: str) -> tuple[str, bool]:
        try:
            data = self.client.users_info(user=chat_user_id).data
        except (SlackApiError, SlackClientError, OSError) as exc:
            raise ChatError(f"Slack users.info: {exc}") from exc
        user = data.get("user") or {}
        email = str((user.get("profile") or {}).get("email") or "")
        # Slack workspaces confirm the addresses of their members; a bot, a deleted account or a
        # guest whose address is not confirmed is not a verified person.
        verified = bool(email) and not user.get("deleted") and not user.get("is_bot") and user.get("is_email_confirmed", True) is not False
        return email, verified

    def post(self, channel: str, card: dict) -> tuple[str, str]:
        data = self._call("chat.postMessage", channel=channel, **formats.slack_message(card))
        return str(data.get("channel") or channel), str(data.get("ts") or "")

    def update(self, channel: str, ts: str, card: dict) -> None:
        self._call("chat.update", channel=channel, ts=ts, **formats.slack_message(card))

    def dm(self, chat_user_id: str, card: dict) -> tuple[str, str]:
        """The bot's direct message to one person: conversations.open, then chat.postMessage."""
        opened = self._call("conversations.open", users=chat_user_id)
        channel = str((opened.get("channel") or {}).get("id") or "")
        if not channel:
            raise ChatError("Slack conversations.open: no channel in the answer")
        return self.post(channel, card)

    def open_view(self, trigger_id: str, view: dict) -> None:
        """A modal, now (the trigger id is valid for three seconds: not a delivery)."""
        self._call("views.open", trigger_id=trigger_id, view=view)

    def message_text(self, channel: str, ts: str) -> tuple[str, str]:
        """(text, author's chat id) of one message of a channel."""
        data = self._call("conversations.history", channel=channel, latest=ts, inclusive=True, limit=1)
        messages = data.get("messages") or []
        found = messages[0] if messages and isinstance(messages[0], dict) and messages[0].get("ts") == ts else {}
        return str(found.get("text") or ""), str(found.get("user") or "")

    def create_channel(self, name: str, team_id: str) -> str:
        return str(self._call("conversations.create", name=name, is_private=False)["channel"]["id"])

    def set_topic(self, channel: str, text: str) -> None:
        self._call("conversations.setTopic", channel=channel, topic=formats.slack_topic(text))

    def invite(self, channel: str, users: list[str]) -> None:
        try:
            self._call("conversations.invite", channel=channel, users=",".join(users))
        except ChatError as exc:
            if "already_in_channel" not in exc.message:
                raise

    def pin(self, channel: str, ts: str) -> None:
        try:
            self._call("pins.add", channel=channel, timestamp=ts)
        except ChatError as exc:
            if "already_pinned" not in exc.message:
                raise

    def archive(self, channel: str) -> None:
        try:
            self._call("conversations.archive", channel=channel)
        except ChatError as exc:
            if "already_archived" not in exc.message:
                raise


class MattermostAdapter:
    def __init__(self, api_url: str, token: str):
        self.base = api_url.rstrip("/") + "/api/v4"
        self.token = token

    def _call(self, method: str, path: str, body: dict | list | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json", "User-Agent": "incident-portal/1.0"}
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)  # noqa: S310 (the admin's server URL)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 (the admin's server URL)
                text = response.read(1_000_000).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            detail = exc.read(2000).decode("utf-8", "replace")
            permanent = exc.code in (400, 401, 403, 404)
            wait = retry_after_seconds(exc.headers.get("Retry-After")) if exc.code in (429, 503) and exc.headers else None
            if exc.code == 429 and wait is None:
                wait = 10.0  # Mattermost's limiter also answers X-RateLimit-Reset; when neither came, a short wait
            raise ChatError(f"Mattermost {method} {path}: {exc.code} {detail[:300]}", permanent=permanent, status_code=exc.code,
                            retry_after=wait) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ChatError(f"Mattermost {method} {path}: {exc}") from exc
        try:
            parsed = json.loads(text) if text.strip() else {}
        except ValueError:
            parsed = {}
        return parsed if isinstance(parsed, dict) else {"items": parsed}

    def auth_test(self) -> str:
        me = self._call("GET", "/users/me")
        return f"{me.get('username', '?')}"

    def person(self, chat_user_id: str) -> tuple[str, bool]:
        user = self._call("GET", f"/users/{urllib.parse.quote(chat_user_id, safe='')}")
        email = str(user.get("email") or "")
        return email, bool(email) and bool(user.get("email_verified")) and not user.get("is_bot") and not user.get("delete_at")

    def post(self, channel: str, card: dict) -> tuple[str, str]:
        data = self._call("POST", "/posts", {"channel_id": channel, **formats.mattermost_post(card)})
        return str(data.get("channel_id") or channel), str(data.get("id") or "")

    def update(self, channel: str, post_id: str, card: dict) -> None:
        self._call("PUT", f"/posts/{urllib.parse.quote(post_id, safe='')}/patch", formats.mattermost_post(card))

    def dm(self, chat_user_id: str, card: dict) -> tuple[str, str]:
        """The bot's direct message to one person: the direct channel of the bot and the person
        (POST /channels/direct, made once by Mattermost), then a post in it."""
        bot = str(self._call("GET", "/users/me").get("id") or "")
        if not bot:
            raise ChatError("Mattermost GET /users/me: no id in the answer")
        channel = str(self._call("POST", "/channels/direct", [bot, chat_user_id]).get("id") or "")
        if not channel:
            raise ChatError("Mattermost POST /channels/direct: no id in the answer")
        return self.post(channel, card)

    def create_channel(self, name: str, team_id: str) -> str:
        data = self._call("POST", "/channels", {"team_id": team_id, "name": name, "display_name": name, "type": "O"})
        return str(data["id"])

    def set_topic(self, channel: str, text: str) -> None:
        self._call("PUT", f"/channels/{urllib.parse.quote(channel, safe='')}/patch", {"header": formats.mattermost_header(text)})

    def invite(self, channel: str, users: list[str]) -> None:
        for user in users:
            self._call("POST", f"/channels/{urllib.parse.quote(channel, safe='')}/members", {"user_id": user})

    def pin(self, channel: str, post_id: str) -> None:
        self._call("POST", f"/posts/{urllib.parse.quote(post_id, safe='')}/pin")

    def archive(self, channel: str) -> None:
        self._call("DELETE", f"/channels/{urllib.parse.quote(channel, safe='')}")


def adapter_for(kind: str, api_url: str, token: str):
    if kind == SLACK:
        return SlackAdapter(api_url, token)
    if kind == MATTERMOST:
        return MattermostAdapter(api_url, token)
    raise ChatError(f"No chat {kind!r}", permanent=True)


def for_workspace(workspace):
    return adapter_for(workspace.kind, workspace.api_url, workspace.bot_token)


def site_url(path: str) -> str:
    return settings.SITE_URL + path
