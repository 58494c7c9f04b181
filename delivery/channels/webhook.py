"""Generic webhooks: JSON signed per the Standard Webhooks scheme (standardwebhooks.com):
`webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of
"id.timestamp.body">`, keyed by the method's `whsec_` secret.

`webhook-id` is the delivery's message id, the same on every attempt: the standard tells
receivers to use it to drop duplicates, so this channel is `idempotent` (a claim whose worker
died is taken back after the purpose's short lease and sent again safely)."""

import base64
import hashlib
import hmac
import time

from ..messages import Message
from .base import HttpChannel, register


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


@register
class WebhookChannel(HttpChannel):
    kind = "webhook"
    label = "Webhook"
    idempotent = True

    def payload(self, message: Message) -> dict:
        return {
            "type": f"notification.{message.kind}" if message.kind else "notification",
            "timestamp": int(time.time()),
            "data": {**message.as_dict(), "ack_url": message.ack_url},
        }

    def headers(self, body: bytes) -> dict:
        message_id = self.destination.message_id
        timestamp = int(time.time())
        return {
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self.destination.secret, message_id, timestamp, body),
        }
