"""Routes: an app above this one (the chat core, `chatops`) taking over how some pages and
stakeholder messages are sent, without this app importing it.

A page to a person whose contact method is Slack (incoming webhook) goes as the portal's Slack
app's direct message when the person has linked their chat account; a Mattermost contact method
goes as the bot's direct message; a stakeholder subscription to a chat app channel is posted by
the app. Those messages carry interactive buttons that act as whoever presses them.

    routes.register(Route(channels=("slack_app",), person=..., subscription=..., destination=...,
                          compose=..., sent=...))

- `person(method) -> (channel, target label, data) | None`: when the row for `method` is made:
  the delivery channel to use instead of the method's own, the masked target shown on pages,
  and what the route needs at send time (stored on the row's message as `data["route"]`).
- `subscription(sub) -> (channel, target label, data) | None`: the same for a subscription.
- `destination(row) -> Destination` (raises ChannelError when the link is gone: the row fails
  and the person's next contact method is tried).
- `compose(row, message, actions) -> Message`: the message with the route's card and buttons;
  `actions`: the buttons offered besides Open (`PAGE_ACTIONS` on a page, as the incident's
  state allows; a stakeholder channel gets Acknowledge only, and only while it is awaited).
- `sent(row, receipt) -> list`: what follows a send (the chat post's id kept for in-place updates).

Rows keep their purpose (`paging`, `stakeholders`): the same rate limits, cancellation,
fallback and rows on the incident as every other channel."""

from collections.abc import Callable
from dataclasses import dataclass

PAGE_ACTIONS = ("ack", "resolve", "escalate")


@dataclass(frozen=True)
class Route:
    channels: tuple[str, ...]
    person: Callable
    subscription: Callable
    destination: Callable
    compose: Callable
    sent: Callable


_routes: list[Route] = []


def register(route: Route) -> Route:
    _routes.append(route)
    return route


def for_method(method):
    """(channel, target label, data) of the first route taking pages to `method`, or None."""
    for route in _routes:
        found = route.person(method)
        if found:
            return found
    return None


def for_subscription(sub):
    for route in _routes:
        found = route.subscription(sub)
        if found:
            return found
    return None


def for_channel(channel: str) -> Route | None:
    """The route that sends rows of this delivery channel, when the row was routed."""
    for route in _routes:
        if channel in route.channels:
            return route
    return None


def routed(row) -> Route | None:
    """The route of a row made through one (its message says so), or None."""
    if not isinstance((row.message or {}).get("data"), dict) or "route" not in row.message["data"]:
        return None
    return for_channel(row.channel)
