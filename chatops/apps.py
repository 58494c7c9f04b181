from django.apps import AppConfig


class ChatopsConfig(AppConfig):
    """Slack and Mattermost, two-way (see the package's docstring)."""

    name = "chatops"
    label = "chatops"
    verbose_name = "Chat (Slack, Mattermost)"
    default_auto_field = "django.db.models.BigAutoField"
    portal_app = True

    def ready(self):
        from incidents import events

        from . import handlers, outgoing, routes, services, tasks

        services.pin_later.bind(tasks.pin_to_timeline_task)
        outgoing.register_purpose()
        routes.register()
        events.subscribe(handlers.on_incident_event, kinds=handlers.KINDS, name="chatops.incident_channel")
