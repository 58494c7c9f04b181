"""Microsoft Teams incoming webhooks (and the Workflows "post to a channel when a webhook
request is received" template): a message whose one attachment is an Adaptive Card.

Untrusted text is written as `TextRun`s of a `RichTextBlock`, which Adaptive Cards never read
as Markdown (a `[click](javascript:…)` or `**` arrives as typed); `{{DATE(…)}}`-style functions
are broken up too. The card stays under Teams' 28 KB message limit; links are http(s) only."""

from .. import safetext
from ..messages import Message
from .base import HttpChannel, register

BODY_BYTES = 12_000  # with the title and JSON escaping, well under Teams' 28 KB per message


def plain(text: str) -> str:
    """Text no Adaptive Card host formats: no `{{…}}` template or date function."""
    return text.replace("{{", "{\u200b{").replace("}}", "}\u200b}")


def rich_text(text: str, **run) -> dict:
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": plain(text), **run}]}


@register
class TeamsChannel(HttpChannel):
    kind = "teams"
    label = "Microsoft Teams"

    def card(self, message: Message) -> dict:
        body = [rich_text(message.headline, weight="Bolder", size="Medium")]
        text = safetext.truncate_bytes(message.body, BODY_BYTES)
        if text.strip():
            body.append(rich_text(text))
        actions = []
        if message.url:
            actions.append({"type": "Action.OpenUrl", "title": "Open in the portal", "url": message.url})
        if message.ack_url:
            actions.append({"type": "Action.OpenUrl", "title": "Acknowledge", "url": message.ack_url})
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": body,
            "msteams": {"width": "Full"},
        }
        if actions:
            card["actions"] = actions
        return card

    def payload(self, message: Message) -> dict:
        return {
            "type": "message",
            "attachments": [
                {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": self.card(message)}
            ],
        }
