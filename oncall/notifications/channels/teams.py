"""Microsoft Teams incoming webhooks (and the Workflows "post to a channel when a webhook
request is received" template): a message whose one attachment is an Adaptive Card."""

from ..messages import Message
from .base import HttpChannel, register


@register
class TeamsChannel(HttpChannel):
    kind = "teams"
    label = "Microsoft Teams"

    def card(self, message: Message) -> dict:
        prefix = f"[{message.severity}] " if message.severity else ""
        body = [
            {"type": "TextBlock", "text": f"{prefix}{message.title}", "weight": "Bolder", "size": "Medium", "wrap": True},
        ]
        if message.body:
            body.append({"type": "TextBlock", "text": message.body, "wrap": True})
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
