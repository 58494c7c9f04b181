"""The chaos run's two steps inside the portal (production settings, the run's own PostgreSQL):

    python -m bench.chaos.portal_side seed RECEIVER_URL   -> {"key": ..., "people": [...]}
    python -m bench.chaos.portal_side report              -> {"fingerprints": {fp: {"incidents": [...], "count": n}}}

`seed` sets the portal up the way an operator would, through the app's own services: two
people whose only contact method is a webhook to the receiver (standing for their phones), a
schedule with one of them on call, an escalation policy whose first level pages the schedule
and the other person at once (its second level is an hour away, so it never fires during the
run), a service using that policy and an Alertmanager integration on the service."""

import json
import os
import sys
from datetime import timedelta


def seed(receiver_url: str) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from incidents.access import api_token_create
    from incidents.groups import RESPONDER, ensure_groups
    from incidents.integrations.services.configuration import integration_create
    from incidents.models import Service, Severity
    from oncall.models import Condition, RotationKind, TargetKind
    from oncall.notifications.services import contact_method_create
    from oncall.services.policies import LevelSpec, policy_save
    from oncall.services.schedules import LayerSpec, schedule_create

    User = get_user_model()
    people = []
    for username, first in (("oncall", "Olive"), ("lead", "Leo")):
        user = User.objects.create_user(username, f"{username}@example.com", first_name=first, last_name="Chaos")
        # The default rate limit (5 per 10 minutes) would fold a storm into a digest, rightly;
        # this run counts every page.
        contact_method_create(user=user, kind="webhook", target=f"{receiver_url}/hooks/{username}", rate_limit_count=10_000)
        people.append(user)
    # Its first handoff a week ago, so the person is on call now whatever the weekday of the run
    # (a weekly layer's turns start at its first handoff on or after `starts_on`).
    starts_on = (timezone.now() - timedelta(days=7)).date()
    schedule = schedule_create(name="Chaos primary", time_zone="UTC", layers=[LayerSpec(
        name="Primary", starts_on=starts_on, handoff_weekday=starts_on.weekday(), participants=[(people[0], 1)],
        rotation=RotationKind.WEEKLY)])
    service = Service.objects.create(name="Chaos checkout", slug="chaos-checkout")
    policy_save(name="Chaos paging", services=[service], levels=[
        LevelSpec(targets=[(TargetKind.SCHEDULE, schedule.pk), (TargetKind.USER, people[1].pk)], delay_seconds=0,
                  condition=Condition.NOT_ACKNOWLEDGED),
        LevelSpec(targets=[(TargetKind.USER, people[1].pk)], delay_seconds=3600, condition=Condition.NOT_ACKNOWLEDGED),
    ])
    _integration, key = integration_create(name="Chaos Alertmanager", service=service, kind="alertmanager",
                                           default_severity=Severity.objects.get(key="P1"), rate_limit_per_minute=0)
    # A responder's API token for the probes: declarations and a staff read during the faults.
    ensure_groups()
    people[1].groups.add(Group.objects.get(name=RESPONDER))
    _token, api_key = api_token_create(user=people[1], name="chaos probe")
    return {"key": key, "people": [p.username for p in people], "token": api_key}


def report() -> dict:
    from django.db.models import Sum

    from incidents.integrations.models import Alert
    from incidents.models import Incident

    fingerprints: dict[str, dict] = {}
    for row in Alert.objects.values("fingerprint", "incident_id").annotate(count=Sum("count")):
        entry = fingerprints.setdefault(row["fingerprint"], {"incidents": [], "count": 0})
        if row["incident_id"] is not None and row["incident_id"] not in entry["incidents"]:
            entry["incidents"].append(row["incident_id"])
        entry["count"] += row["count"]
    # Incidents the storm opened (the probes' declarations have no alerts).
    return {"fingerprints": fingerprints, "incidents": Incident.objects.filter(alerts__isnull=False).distinct().count(),
            "declared": Incident.objects.filter(alerts__isnull=True).count(), "stages": stages()}


def stages() -> dict:
    """Where the time went, in seconds per row: the declaration's event waiting for its
    subscribers, the first escalation step waiting to fire, each page waiting to be sent."""
    from delivery.models import Delivery
    from incidents.models import TimelineEvent
    from oncall.models import EscalationStep

    def lags(rows):
        return [(done - start).total_seconds() for start, done in rows if done is not None]

    return {
        "event dispatched": lags(TimelineEvent.objects.filter(kind="declared").values_list("created_at", "dispatched_at")),
        "first step fired": lags(EscalationStep.objects.filter(level=0).values_list("due_at", "fired_at")),
        "page sent": lags(Delivery.objects.filter(incident__isnull=False).values_list("created_at", "sent_at")),
    }


def main(args: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    import django

    django.setup()
    result = seed(args[1]) if args[0] == "seed" else report()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
