"""Slack incoming webhooks: Block Kit, with a plain `text` fallback for notifications.

Untrusted text (alert titles, summaries) goes into `mrkdwn` fields and the fallback `text`
with `&`, `<` and `>` escaped, so `<!channel>`, `<@U123>` or `<http://evil|click>` arrive as
plain text; the header is `plain_text`, which Slack does not parse. Every field stays within
Block Kit's limits (a payload over them is refused for good), buttons link http(s) only."""

from .. import safetext
from ..messages import Message
from .base import HttpChannel, register

HEADER_LIMIT = 150  # Block Kit: header text
SECTION_LIMIT = 3000  # Block Kit: section text
FALLBACK_LIMIT = 3000
URL_LIMIT = 3000  # Block Kit: button url


def _link(url: str) -> str:
    return url if len(url) <= URL_LIMIT else ""


@register
class SlackChannel(HttpChannel):
    kind = "slack"
    label = "Slack"

    def payload(self, message: Message) -> dict:
        title = message.headline
        blocks = [
            {"type": "header", "text": {"type": "plain_text", "text": safetext.truncate(title, HEADER_LIMIT), "emoji": True}},
        ]
        body = safetext.truncate_escaped(safetext.mrkdwn(message.body), SECTION_LIMIT)
        if body.strip():
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body}})
        buttons = []
        url, ack_url = _link(message.url), _link(message.ack_url)
        if url:
            buttons.append({"type": "button", "text": {"type": "plain_text", "text": "Open in the portal"},
                            "url": url, "action_id": "open"})
        if ack_url:
            buttons.append({"type": "button", "text": {"type": "plain_text", "text": "Acknowledge"},
                            "url": ack_url, "style": "primary", "action_id": "acknowledge"})
        if buttons:
            blocks.append({"type": "actions", "elements": buttons})
        fallback = safetext.truncate_escaped(safetext.mrkdwn(title), FALLBACK_LIMIT)
        if url:
            fallback += f": <{safetext.mrkdwn(url)}>"
        return {"text": fallback, "blocks": blocks}
