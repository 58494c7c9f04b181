"""Subscribers to incident events (see incidents.events); registered in AppConfig.ready()."""

from incidents.events import subscribe

from . import reminders, subscriptions

REMINDER_KINDS = {"declared", "status_update", "severity_changed", "resolved", "reopened"}


def on_event_for_subscriptions(event) -> None:
    subscriptions.on_incident_event(event)


def on_event_for_reminders(event) -> None:
    reminders.reminder_sync(event.incident)


def register() -> None:
    subscribe(on_event_for_subscriptions, kinds=subscriptions.REALTIME_KINDS, name="notifications.subscriptions")
    subscribe(on_event_for_reminders, kinds=REMINDER_KINDS, name="notifications.reminders")
