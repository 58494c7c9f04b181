from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import pre_delete


class OncallConfig(AppConfig):
    name = "oncall"
    label = "oncall"
    verbose_name = "On-call"
    default_auto_field = "django.db.models.BigAutoField"
    portal_app = True
    responder_permissions = (
        "oncall.add_override",
        "oncall.change_override",
        "oncall.delete_override",
        "oncall.add_handoffnote",
        "oncall.page_manually",
    )

    def ready(self):
        from delivery.gauges import register_metric
        from incidents import demo, events, extensions

        from . import demo as oncall_demo
        from . import handlers, panels, selectors, tasks
        from .notifications import phones
        from .services import escalation, handoff, people

        escalation.step_fire_later.bind(tasks.step_fire_task)
        phones.escalate_now.bind(escalation.escalations_escalate_now)
        handoff.handoff_send_later.bind(tasks.handoff_send_task)

        pre_delete.connect(people.refuse_to_delete_people, sender=settings.AUTH_USER_MODEL, dispatch_uid="oncall.refuse_to_delete_people")
        extensions.register_nav("On call", "oncall:now", order=20)
        extensions.register_dashboard_panel("oncall-gaps", "oncall/_gap_banner.html", panels.dashboard_gaps, order=5)
        extensions.register_dashboard_panel("oncall-policy-problems", "oncall/_policy_problems_banner.html",
                                            panels.dashboard_policy_problems, order=6)
        extensions.register_dashboard_panel("oncall-now", "oncall/_now_panel.html", panels.dashboard_now, order=20)
        extensions.register_incident_panel("oncall-escalation", "oncall/_escalation_panel.html", panels.incident_escalation, order=10)
        events.subscribe(handlers.page, kinds=handlers.KINDS, name="oncall.escalation", queue=settings.PAGING_QUEUE)
        demo.register_demo_seeder(oncall_demo.seed, order=20)
        register_metric("portal_escalation_steps", "Escalation steps waiting to fire (overdue: more than 30 s late).",
                        ("state",), selectors.metric_steps)
        register_metric("portal_escalations_active", "Escalations still running.", (), selectors.metric_active_escalations)
        register_metric("portal_escalation_steps_unfired", "Escalation steps past their due time, not fired yet.", (),
                        selectors.metric_steps_unfired)
        register_metric("portal_escalation_steps_unfired_oldest_seconds",
                        "How long the oldest due-but-unfired step has been due (0: none).", (), selectors.metric_steps_unfired_oldest)
