from django.apps import AppConfig


class StatuspageConfig(AppConfig):
    """The public status page: components, public incidents, maintenance, subscribers, feeds."""

    name = "incidents.statuspage"
    label = "statuspage"
    verbose_name = "Status page"
    default_auto_field = "django.db.models.BigAutoField"
    portal_app = True
    responder_permissions = (
        "incidents.add_maintenance",
        "incidents.change_maintenance",
        "statuspage.publish_public_update",
    )

    def ready(self):
        from delivery.gauges import register_metric
        from incidents import extensions
        from incidents.demo import register_demo_seeder
        from incidents.events import subscribe

        from . import demo, handlers, metrics, purposes, queue, services, staff_views, tasks

        queue.maintenance_step_later.bind(tasks.maintenance_step_task)
        purposes.register()

        subscribe(handlers.on_incident_event, kinds=handlers.KINDS, name="statuspage.on_incident_event")
        extensions.register_nav("Status page", "statuspage_staff:overview", order=60)
        extensions.register_public_updates(services.incident_publish_update, permission=services.PUBLISH)
        extensions.register_incident_panel("statuspage", "statuspage/staff/_incident_panel.html", staff_views.incident_panel_context, order=20)
        register_demo_seeder(demo.seed, order=30)
        register_metric("portal_statuspage_components", "Status page components by state.", ("status",), metrics.components_by_status)
