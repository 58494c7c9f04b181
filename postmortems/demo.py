"""Demo data for `make run`: postmortems for the demo's resolved incidents, one published with a
public summary, action items in every state (some overdue)."""

from datetime import timedelta

from django.utils import timezone

from incidents.integrations.models import Runbook
from incidents.models import Incident

from . import gamedays, services
from .models import ActionItem, GameDay, GameDayStatus, Postmortem


def seed(context: dict) -> None:
    users = context["users"]
    sam, dana, lee, maria = users["sam"], users["dana"], users["lee"], users["maria"]
    today = timezone.localdate()
    for incident in Incident.objects.filter(status="resolved").select_related("severity").order_by("declared_at"):
        if Postmortem.objects.filter(incident=incident).exists():
            continue
        due = max(incident.resolved_at + (incident.severity.postmortem_due or timedelta(days=7)), timezone.now() + timedelta(hours=6))
        if incident.false_positive:
            continue
        services.postmortem_create(incident=incident, owner=sam, due_at=due, automatic=incident.severity.postmortem_required)
    by_title = {i.title: i for i in Incident.objects.all()}
    checkout = by_title.get("Checkout failing for card payments")
    if checkout:
        pm = Postmortem.objects.get(incident=checkout)
        services.postmortem_update(postmortem=pm, by=sam, reviewers=[dana, lee, maria], sections={
            "impact-users": "About 30% of card payments failed for 58 minutes.",
            "impact-data-loss": "None.",
            "impact-revenue": "Roughly 1,200 failed checkouts; most customers retried successfully.",
            "root-cause": "The payment gateway client's TLS certificate expired; renewal was manual and nobody owned it.",
            "contributing-factors": "- No alert on certificate expiry\n- The runbook pointed to a retired dashboard",
            "went-well": "The alert fired within a minute and the fix was found quickly.",
            "could-improve": "Certificate renewals need automation and an owner.",
            "lessons": "Anything with an expiry date needs a monitor.",
        })
        for title, owner, days, category, status in (
            ("Automate certificate renewal (cert-manager)", lee, 10, "prevention", "in_progress"),
            ("Alert 14 days before any certificate expires", dana, 5, "detection", "done"),
            ("Update the payments runbook", maria, 3, "documentation", "open"),
        ):
            item = services.action_item_create(incident=checkout, title=title, owner=owner, due_date=today + timedelta(days=days), category=category, by=sam)
            if status != "open":
                services.action_item_update(item=item, status=status, by=owner)
        services.postmortem_submit_for_review(postmortem=pm, by=sam)
        services.postmortem_publish(postmortem=pm, by=sam, public_summary=(
            "An expired certificate on our payment gateway client caused about 30% of card payments to fail for an hour. "
            "Renewal is now automated and monitored."
        ))
        # Items that went overdue: dated in the past as if created weeks ago.
        for title, owner, days in (("Load-test the failover path", dana, 4), ("Add a dashboard for checkout errors", sam, 1)):
            item = services.action_item_create(incident=checkout, title=title, owner=owner, due_date=today + timedelta(days=1), by=sam)
            ActionItem.objects.filter(pk=item.pk).update(due_date=today - timedelta(days=days))
    db = by_title.get("Database primary unreachable")
    if db:
        pm = Postmortem.objects.get(incident=db)
        services.postmortem_update(postmortem=pm, by=sam, sections={"root-cause": "The primary's disk filled with WAL after archiving stalled."})
        services.action_item_create(incident=db, title="Alert on WAL archive lag", owner=lee, due_date=today + timedelta(days=7), category="detection", by=sam)


def seed_game_days(context: dict) -> None:
    """A monthly game day ahead (reminders planned) and last month's, done, with its drill and results."""
    if GameDay.objects.exists():
        return
    users = context["users"]
    sam, dana, lee, maria = users["sam"], users["dana"], users["lee"], users["maria"]
    start = (timezone.now() + timedelta(days=6)).replace(hour=14, minute=0, second=0, microsecond=0)
    runbook = Runbook.objects.order_by("identifier").first()
    gamedays.game_day_create(
        title="Monthly game day: database failover", by=sam, time_zone="America/New_York", starts_at=start,
        ends_at=start + timedelta(hours=2), runbook=runbook, facilitator=sam, participants=[dana, lee, maria],
        scenario="The primary database becomes unreachable at 14:05. Responders follow the failover runbook; "
                 "the facilitator injects a stale replica at 14:30.",
    )
    drill = Incident.objects.filter(is_drill=True).order_by("declared_at").first()
    if drill is None:
        return
    past = GameDay.objects.create(
        title="Fire drill: payment gateway down", scenario="The payment gateway answers 503 to every request.",
        starts_at=drill.declared_at - timedelta(minutes=5), ends_at=drill.declared_at + timedelta(hours=1), time_zone="Europe/London",
        runbook=runbook, facilitator=sam, status=GameDayStatus.DONE if drill.resolved_at else GameDayStatus.RUNNING,
        started_at=drill.declared_at, completed_at=drill.resolved_at, outcome="partial" if drill.resolved_at else "",
        learnt="Paging worked; the runbook link in the alert was dead and the secondary did not know the dashboard."
        if drill.resolved_at else "",
    )
    past.participants.set([dana, lee])
    past.incidents.add(drill)
    services.action_item_create(incident=drill, title="Fix the runbook link in the payment alerts", owner=lee,
                                due_date=timezone.localdate() + timedelta(days=7), category="response", by=sam)
