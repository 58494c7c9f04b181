from django.apps import AppConfig


class PostmortemsConfig(AppConfig):
    name = "postmortems"
    verbose_name = "Postmortems"
    default_auto_field = "django.db.models.BigAutoField"
    portal_app = True
    responder_permissions = (
        "postmortems.add_postmortem",
        "postmortems.change_postmortem",
        "postmortems.publish_postmortem",
        "postmortems.add_actionitem",
        "postmortems.change_actionitem",
        "postmortems.add_gameday",
        "postmortems.change_gameday",
    )

    @staticmethod
    def seed_defaults(apps):
        """Idempotent: the templates the data migration seeds (tests call it after a flush)."""
        from .defaults import seed_templates

        seed_templates(apps)

    def ready(self):
        from delivery.gauges import register_metric
        from incidents import demo, events, extensions

        from . import demo as pm_demo
        from . import gameday_reminders, metrics, panels, procedures, purposes, services

        purposes.register()
        gameday_reminders.register()
        extensions.register_procedure_step("postmortems.templates", procedures.load_templates)

        events.subscribe(services.postmortem_create_on_resolution, kinds={"resolved"}, name="postmortems.open_on_resolution")
        extensions.register_nav("Postmortems", "postmortems:list", order=30)
        extensions.register_nav("Action items", "postmortems:action_items", order=31)
        extensions.register_nav("Game days", "postmortems:game_days", order=34)
        extensions.register_drills_panel("postmortems.game_days", "postmortems/_panel_drills.html", panels.drills_game_days)
        extensions.register_nav("Metrics", "postmortems:metrics", order=32)
        extensions.register_dashboard_panel("postmortems.my_action_items", "postmortems/_panel_my_items.html", panels.my_action_items, order=40)
        extensions.register_incident_panel("postmortems.postmortem", "postmortems/_panel_incident.html", panels.incident_postmortem, order=20)
        demo.register_demo_seeder(pm_demo.seed, order=60)
        demo.register_demo_seeder(pm_demo.seed_game_days, order=61)
        register_metric("portal_postmortems_overdue", "Unpublished postmortems past their due time.", (), metrics.postmortems_overdue)
        register_metric("portal_action_items_overdue", "Open action items past their due date.", (), metrics.action_items_overdue)
