"""Channels, one module each; importing this package fills the registry."""

from . import email, slack, teams, webhook  # noqa: F401  (registration)
from .base import Channel, ChannelError, Delivery, Destination, InvalidTarget, channel_class, channel_for, registered_kinds

__all__ = [
    "Channel", "ChannelError", "Delivery", "Destination", "InvalidTarget", "channel_class", "channel_for", "registered_kinds",
]
