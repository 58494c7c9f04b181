from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "oncall.notifications"
    label = "notifications"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"
    portal_app = True
    responder_permissions = (
        "notifications.add_contactmethod",
        "notifications.change_contactmethod",
        "notifications.delete_contactmethod",
        "notifications.add_notificationrule",
        "notifications.change_notificationrule",
        "notifications.delete_notificationrule",
    )

    def ready(self):
        from incidents import demo, extensions

        from . import demo as notifications_demo
        from . import handlers, panels, purposes

        purposes.register()
        handlers.register()
        demo.register_demo_seeder(notifications_demo.seed, order=30)
        extensions.register_nav("Notifications", "notifications:mine", order=40)
        extensions.register_incident_panel(
            "notifications", "notifications/_incident_panel.html", panels.incident_notifications, order=30
        )
