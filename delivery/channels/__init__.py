"""Channels, one module each; importing this package fills the registry."""

from . import email, ntfy, phone, slack, statuspage, teams, webhook  # noqa: F401  (registration)
from .base import Channel, ChannelError, Destination, InvalidTarget, Receipt, channel_class, channel_for, registered_kinds

__all__ = [
    "Channel", "ChannelError", "Destination", "InvalidTarget", "Receipt", "channel_class", "channel_for", "registered_kinds",
]
