"""Demo data: a primary/secondary schedule, an engineering-lead schedule and the default
escalation policy of DESIGN.md, linked to every demo service."""

from datetime import time, timedelta

from django.utils import timezone

from incidents.models import Severity

from .models import Condition, EscalationLevel, EscalationPolicy, EscalationTarget, ServicePolicy, TargetKind
from .services.schedules import LayerSpec, RestrictionSpec, schedule_create


def seed(context: dict) -> None:
    users = context["users"]
    dana, sam, lee, maria, admin = (users[k] for k in ("dana", "sam", "lee", "maria", "admin"))
    start = timezone.localdate() - timedelta(days=14)
    platform = schedule_create(name="Platform on-call", time_zone="America/New_York", description="Primary and secondary for the platform.", layers=[
        LayerSpec(name="Primary", starts_on=start, participants=[(dana, 1), (sam, 1), (lee, 1)], handoff_time=time(9), handoff_weekday=0),
        LayerSpec(name="Secondary", starts_on=start, participants=[(maria, 1), (lee, 1), (dana, 1)], handoff_time=time(9), handoff_weekday=0),
    ])
    schedule_create(name="Europe follow-the-sun", time_zone="Europe/Berlin", description="Business hours in Berlin; weekday-only daily turns.", layers=[
        LayerSpec(name="Berlin hours", starts_on=start, rotation="daily", weekdays_only=True, participants=[(maria, 1), (lee, 1)],
                  handoff_time=time(8), restrictions=[RestrictionSpec([0, 1, 2, 3, 4], time(8), time(18))]),
    ])
    leads = schedule_create(name="Engineering leads", time_zone="America/New_York", layers=[
        LayerSpec(name="Leads", starts_on=start, participants=[(sam, 4), (lee, 3)], rotation="daily", handoff_time=time(9)),
    ])
    policy = EscalationPolicy.objects.create(name="Default (DESIGN.md)", repeat=1, repeat_after_seconds=15 * 60,
                                             description="Primary now; secondary at 15 min; engineering lead at 30 min; CTO at 60 min for unresolved P0; VP at 60 min for unmitigated P1.")
    primary, secondary = platform.layers.order_by("position")
    sev = {s.key: s for s in Severity.objects.all()}

    def level(pos, delay_min, condition, targets, severities=()):
        lv = EscalationLevel.objects.create(policy=policy, position=pos, delay_seconds=delay_min * 60, condition=condition)
        lv.severities.set([sev[k] for k in severities if k in sev])
        for i, (kind, obj) in enumerate(targets):
            EscalationTarget.objects.create(level=lv, position=i, kind=kind, **{kind: obj})

    level(0, 0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.LAYER, primary)])
    level(1, 15, Condition.NOT_ACKNOWLEDGED, [(TargetKind.LAYER, secondary)], ["P0", "P1", "P2"])
    level(2, 30, Condition.NOT_ACKNOWLEDGED, [(TargetKind.SCHEDULE, leads)], ["P0", "P1"])
    level(3, 60, Condition.NOT_RESOLVED, [(TargetKind.USER, admin)], ["P0"])  # the CTO
    level(4, 60, Condition.NOT_MITIGATED, [(TargetKind.USER, admin)], ["P1"])  # the VP
    for service in context["services"].values():
        ServicePolicy.objects.get_or_create(service=service, defaults={"policy": policy})
