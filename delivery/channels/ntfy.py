"""ntfy push (https://ntfy.sh, or a self-hosted server): ntfy's JSON publish format, POSTed to
the server's root with the topic in the body, through the guarded HTTP path.

The target is the topic's URL, `https://ntfy.example.com/oncall-alice` (a bare topic name is
put on settings.NTFY_DEFAULT_SERVER). The destination's secret, when set, is the topic's access
token (`Authorization: Bearer tk_…`). A page goes out at priority 5 ("urgent": the app can let
it through Do Not Disturb), tagged with its severity, clicking it opens the incident, and the
message's `actions` become `http` action buttons: the app POSTs to those signed portal URLs,
so the page is acknowledged or resolved from the notification without logging in."""

import re
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

from .. import safetext
from ..messages import Message
from .base import HttpChannel, InvalidTarget, Receipt, post, register

TOPIC = re.compile(r"^[-_A-Za-z0-9]{1,64}$")  # ntfy's topic rule
TITLE_LIMIT = 250
BODY_LIMIT = 3500  # ntfy keeps up to 4,096 bytes of message before turning it into an attachment
ACTION_LABELS = {"acknowledge": "Acknowledge", "resolve": "Resolve"}
URGENT, DEFAULT = 5, 3


def split(target: str) -> tuple[str, str]:
    """(server URL to POST to, topic) from a topic URL."""
    parts = urlsplit(target)
    base, _, topic = parts.path.rstrip("/").rpartition("/")
    return urlunsplit((parts.scheme, parts.netloc, base + "/", "", "")), topic


def severity_tags(severity: str) -> list[str]:
    tags = ["rotating_light"] if severity else ["bell"]
    if severity:
        tags.append(safetext.line(severity, 40))
    return tags


@register
class NtfyChannel(HttpChannel):
    kind = "ntfy"
    label = "ntfy push"

    @classmethod
    def clean_target(cls, target: str) -> str:
        target = target.strip()
        if TOPIC.match(target):
            target = f"{settings.NTFY_DEFAULT_SERVER.rstrip('/')}/{target}"
        try:
            parts = urlsplit(target)
        except ValueError as exc:
            raise InvalidTarget("Enter an ntfy topic URL, e.g. https://ntfy.example.com/oncall-alice.") from exc
        _server, topic = split(target)
        if parts.query or parts.fragment or not TOPIC.match(topic):
            raise InvalidTarget("Enter an ntfy topic URL, e.g. https://ntfy.example.com/oncall-alice "
                                "(a topic is 1 to 64 letters, digits, - or _).")
        return super().clean_target(target.rstrip("/"))

    def payload(self, message: Message) -> dict:
        _server, topic = split(self.destination.target)
        paging = message.kind not in ("test", "digest")
        doc = {
            "topic": topic,
            "title": safetext.truncate(message.headline, TITLE_LIMIT),
            "message": safetext.truncate_bytes(message.body, BODY_LIMIT) or message.headline,
            "priority": URGENT if paging and message.incident_id else DEFAULT,
            "tags": severity_tags(message.severity),
        }
        if message.url:
            doc["click"] = message.url
        actions = [
            {"action": "http", "label": ACTION_LABELS[name], "url": url, "method": "POST", "clear": True}
            for name, url in message.actions.items() if name in ACTION_LABELS and url
        ]
        if actions:
            doc["actions"] = actions
        return doc

    def headers(self, body: bytes) -> dict:
        return {"Authorization": f"Bearer {self.destination.secret}"} if self.destination.secret else {}

    def send(self, message: Message) -> Receipt:
        """POSTed to the server's root (ntfy's JSON publishing), not to the topic's URL."""
        body = self.body(message)
        headers = {"Content-Type": "application/json", "User-Agent": self.user_agent, **self.headers(body)}
        return post(split(self.destination.target)[0], body, headers)
