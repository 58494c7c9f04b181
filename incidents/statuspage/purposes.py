"""The status page's purpose in the delivery layer (`delivery.purposes`): `statuspage`, one
message to one subscriber (`Delivery.destination_id` is the `Subscriber`).

- destination: the subscriber's address or webhook endpoint, read when the row is sent;
- cancelled: when the subscriber unsubscribed, or is not confirmed yet (except for the
  confirmation request itself), or was deleted;
- composed: the stored message plus what is per subscriber and must be fresh at send time (a
  signed unsubscribe link in the text, the List-Unsubscribe / One-Click headers, the webhook's
  `meta`);
- after a send: a webhook endpoint that echoed its confirmation token in the answer is confirmed.

Claim, retries with backoff, the stale-claim lease and the sweep are the delivery layer's."""

from dataclasses import replace

from delivery import purposes
from delivery.channels import Destination
from delivery.messages import Message
from delivery.models import Delivery

from . import notify
from .models import Subscriber


def _subscriber(row: Delivery) -> Subscriber | None:
    return Subscriber.objects.filter(pk=row.destination_id).first()


def cancel_reason(row: Delivery) -> str:
    sub = _subscriber(row)
    if sub is None:
        return "The subscriber was deleted."
    if sub.unsubscribed_at is not None:
        return "The subscriber unsubscribed."
    if row.kind != notify.CONFIRM and sub.confirmed_at is None:
        return "The subscription is not confirmed."
    return ""


def destination(row: Delivery) -> Destination | None:
    sub = _subscriber(row)
    if sub is None:
        return None
    return Destination(target=sub.email or sub.endpoint)


def compose(row: Delivery) -> Message | None:
    sub = _subscriber(row)
    if sub is None:
        return None
    message = Message.from_dict(row.message)
    link = notify.unsubscribe_url(sub)
    return replace(
        message,
        context={**message.context, "unsubscribe_url": link},
        headers={**message.headers, "List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        data={"meta": {"unsubscribe": link, "documentation": notify.DOCS_URL},
              **{k: v for k, v in message.data.items() if k != "meta"}} if message.data else {},
    )


def after_sent(row: Delivery, receipt) -> list:
    """A webhook endpoint confirms its subscription by echoing the request's token."""
    if row.kind == notify.CONFIRM:
        sub = _subscriber(row)
        if sub is not None and notify.webhook_echo_confirms(sub, receipt.response):
            notify.subscriber_confirm(subscriber=sub)
    return []


def register() -> None:
    purposes.register(purposes.Purpose(
        name=notify.PURPOSE, label="Status page subscribers", destination=destination, compose=compose,
        cancel_reason=cancel_reason, after_sent=after_sent,
    ))
