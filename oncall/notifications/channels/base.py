"""The channel interface: `Channel.kind`, `send(message) -> Delivery`, `ChannelError`.

Adding a channel is a module with a `Channel` subclass decorated by `@register`, an import line
in `channels/__init__.py`, and its tests. Nothing else looks at `kind`."""

import json
from dataclasses import dataclass

import certifi
import urllib3
from django.conf import settings

from .. import netguard
from ..messages import Message

RESPONSE_KEEP = 2000  # characters of a response body kept on the row


class ChannelError(Exception):
    """A failed send. `permanent=True`: retrying cannot help (bad address, 4xx, refused URL)."""

    def __init__(self, message: str, *, permanent: bool = False, status_code: int | None = None, response: str = ""):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status_code = status_code
        self.response = response


class InvalidTarget(ValueError):
    """A target this channel cannot use (bad address, refused URL)."""


@dataclass(frozen=True)
class Delivery:
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

    def __init__(self, destination: Destination):
        self.destination = destination

    @classmethod
    def clean_target(cls, target: str) -> str:
        """Validate a user-given target when it is saved; raises InvalidTarget."""
        raise NotImplementedError

    def send(self, message: Message) -> Delivery:
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

    def send(self, message: Message) -> Delivery:
        body = json.dumps(self.payload(message), separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "incident-portal/1.0", **self.headers(body)}
        return post(self.destination.target, body, headers)


def post(url: str, body: bytes, headers: dict) -> Delivery:
    try:
        target = netguard.check_url(url)
    except netguard.UnsafeURL as exc:
        raise ChannelError(str(exc), permanent=True) from exc
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    if ":" in target.host and target.port not in (80, 443):
        host_header = f"[{target.host}]:{target.port}"
    last_error = None
    for address in target.addresses:
        pool_kwargs = {"timeout": urllib3.Timeout(connect=timeout, read=timeout, total=timeout), "retries": False, "maxsize": 1}
        if target.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                address, target.port, server_hostname=target.host, assert_hostname=target.host,
                cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(), **pool_kwargs,
            )
        else:
            pool = urllib3.HTTPConnectionPool(address, target.port, **pool_kwargs)
        try:
            response = pool.urlopen(
                "POST", target.path, body=body, headers={**headers, "Host": host_header},
                redirect=False, assert_same_host=False, preload_content=False,
            )
            try:
                text = response.read(RESPONSE_KEEP * 2, decode_content=True).decode("utf-8", "replace")[:RESPONSE_KEEP]
            finally:
                response.release_conn()
        except urllib3.exceptions.NewConnectionError as exc:
            last_error = exc
            continue  # try the next checked address
        except urllib3.exceptions.HTTPError as exc:
            raise ChannelError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            pool.close()
        return _judge(response.status, text)
    raise ChannelError(f"Could not connect: {last_error}")


def _judge(status: int, text: str) -> Delivery:
    if 200 <= status < 300:
        return Delivery(status, text)
    permanent = 300 <= status < 500 and status not in (408, 409, 425, 429)
    raise ChannelError(f"HTTP {status}", permanent=permanent, status_code=status, response=text)


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
