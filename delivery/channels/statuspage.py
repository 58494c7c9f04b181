"""Status page webhooks: the message's `data` (a document in Atlassian Statuspage's webhook
format, composed by the status page) POSTed as it is, through the same guarded HTTP path."""

from ..messages import Message
from .base import HttpChannel, register


@register
class StatuspageWebhookChannel(HttpChannel):
    kind = "statuspage_webhook"
    label = "Status page webhook"
    user_agent = "IncidentPortal-StatusPage/1"

    def payload(self, message: Message) -> dict:
        return message.data
