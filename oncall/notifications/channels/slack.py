"""Slack incoming webhooks: Block Kit, with a plain `text` fallback for notifications."""

from ..messages import Message
from .base import HttpChannel, register


def _mrkdwn_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@register
class SlackChannel(HttpChannel):
    kind = "slack"
    label = "Slack"

    def payload(self, message: Message) -> dict:
        prefix = f"[{message.severity}] " if message.severity else ""
        title = f"{prefix}{message.title}"
        blocks = [
            {"type": "header", "text": {"type": "plain_text", "text": title[:150], "emoji": True}},
        ]
        if message.body:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _mrkdwn_escape(message.body)[:3000]}})
        buttons = []
        if message.url:
            buttons.append({"type": "button", "text": {"type": "plain_text", "text": "Open in the portal"},
                            "url": message.url, "action_id": "open"})
        if message.ack_url:
            buttons.append({"type": "button", "text": {"type": "plain_text", "text": "Acknowledge"},
                            "url": message.ack_url, "style": "primary", "action_id": "acknowledge"})
        if buttons:
            blocks.append({"type": "actions", "elements": buttons})
        fallback = f"{title}: {message.url}" if message.url else title
        return {"text": fallback, "blocks": blocks}
