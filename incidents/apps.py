from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"
    default_auto_field = "django.db.models.BigAutoField"
    portal_app = True
    responder_permissions = (
        "incidents.respond_incident",
        "incidents.add_incident",
        "incidents.change_incident",
        "incidents.add_statusupdate",
    )

    @staticmethod
    def seed_defaults(apps):
        """Idempotent: the data migration's defaults (tests call it after a flush)."""
        from .defaults import restrict_incident_types, seed_defaults, seed_incident_types

        seed_defaults(apps)
        seed_incident_types(apps)
        restrict_incident_types(apps)

    def ready(self):
        from delivery.gauges import register_metric

        from . import extensions, groups, metrics

        post_migrate.connect(groups.ensure_groups, dispatch_uid="incidents.ensure_groups")
        extensions.register_nav("Dashboard", "incidents:dashboard", order=0)
        extensions.register_nav("Incidents", "incidents:list", order=10)
        extensions.register_nav("Drills", "incidents:drills", order=33)
        for gauge in metrics.GAUGES:
            register_metric(*gauge)
