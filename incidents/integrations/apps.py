from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "incidents.integrations"
    label = "integrations"
    verbose_name = "Alert integrations and runbooks"
    default_auto_field = "django.db.models.BigAutoField"
    portal_app = True
    responder_permissions = ("integrations.send_test_alert",)

    def ready(self):
        from incidents import demo, extensions

        from . import panels, seed, tasks
        from .services import heartbeats

        heartbeats.heartbeat_check_later.bind(tasks.heartbeat_check_task)

        extensions.register_nav("Integrations", "integrations:list", order=40)
        extensions.register_incident_panel("alerts", "integrations/_incident_panel.html", panels.incident_alerts, order=20, slot="top")
        demo.register_demo_seeder(seed.seed_demo, order=30)
