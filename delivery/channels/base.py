"""The channel interface: `Channel.kind`, `send(message) -> Receipt`, `ChannelError`.

Adding a channel is a module with a `Channel` subclass decorated by `@register`, an import line
in `channels/__init__.py`, and its tests. Nothing else looks at `kind`.

`Destination` is where one delivery goes (the real target and signing secret, resolved from the
purpose's own row at send time, never stored on the delivery row) and `message_id`, stable for
the delivery across attempts (`msg_<public id>`). `Receipt` is the receiver's answer."""

import json
from dataclasses import dataclass

from .. import netguard, safetext
from ..messages import Message


class ChannelError(Exception):
    """A failed send. `permanent=True`: retrying cannot help (bad address, 4xx, refused URL).
    `retry_after`: the receiver asked us to wait this many seconds (a 429's `Retry-After`): the
    outbox retries after that, not after the purpose's backoff (`delivery.outbox`)."""

    def __init__(self, message: str, *, permanent: bool = False, status_code: int | None = None, response: str = "",
                 retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status_code = status_code
        self.response = response
        self.retry_after = retry_after


class InvalidTarget(ValueError):
    """A target this channel cannot use (bad address, refused URL)."""


@dataclass(frozen=True)
class Receipt:
    status_code: int | None = None
    response: str = ""


@dataclass(frozen=True)
class Destination:
    """Where a message goes: the target (URL or addresses), the signing secret, an id for the message."""

    target: str
    secret: str = ""
    message_id: str = ""


class Channel:
    kind: str = ""
    label: str = ""
    # True when receivers drop a re-send by its message id (the delivery layer then takes back
    # a claim whose worker died after a short lease: delivery.outbox.reclaim_stale).
    idempotent: bool = False
    # True when every message is billed (SMS, calls): purposes may hold these to tighter limits.
    costly: bool = False
    # True when the recipient can answer a message by a reply naming its `Message.reply_code`.
    takes_replies: bool = False

    def __init__(self, destination: Destination):
        self.destination = destination

    @classmethod
    def clean_target(cls, target: str) -> str:
        """Validate a user-given target when it is saved; raises InvalidTarget."""
        raise NotImplementedError

    def send(self, message: Message) -> Receipt:
        raise NotImplementedError


class HttpChannel(Channel):
    """POSTs JSON to the destination URL: the one HTTP path, with the request-forgery guard
    (checked again now and pinned to the checked address) and a timeout on every socket step."""

    @classmethod
    def clean_target(cls, target: str) -> str:
        try:
            netguard.check_url(target)
        except netguard.UnsafeURL as exc:
            raise InvalidTarget(str(exc)) from exc
        return target

    def payload(self, message: Message) -> dict:
        raise NotImplementedError

    def headers(self, body: bytes) -> dict:
        return {}

    def body(self, message: Message) -> bytes:
        """The JSON request body: UTF-8, with no lone surrogate or NUL left to refuse."""
        return json.dumps(safetext.json_safe(self.payload(message)), separators=(",", ":"), ensure_ascii=False).encode()

    user_agent = "incident-portal/1.0"

    def send(self, message: Message) -> Receipt:
        body = self.body(message)
        headers = {"Content-Type": "application/json", "User-Agent": self.user_agent, **self.headers(body)}
        if self.destination.message_id:  # the same on every attempt of one delivery
            headers["Idempotency-Key"] = self.destination.message_id
        return post(self.destination.target, body, headers)


def post(url: str, body: bytes, headers: dict) -> Receipt:
    try:
        status, text = netguard.post(url, body, headers)
    except netguard.SendError as exc:
        raise ChannelError(exc.message, permanent=exc.permanent, status_code=exc.status_code, response=exc.response,
                           retry_after=exc.retry_after) from exc
    return Receipt(status, text)


_registry: dict[str, type[Channel]] = {}


def register(cls: type[Channel]) -> type[Channel]:
    _registry[cls.kind] = cls
    return cls


def channel_class(kind: str) -> type[Channel]:
    try:
        return _registry[kind]
    except KeyError as exc:
        raise ChannelError(f"No channel for {kind!r}", permanent=True) from exc


def channel_for(kind: str, destination: Destination) -> Channel:
    return channel_class(kind)(destination)


def registered_kinds() -> list[str]:
    return sorted(_registry)
