"""Demo data for `make run`: believable services, people and incidents with real timelines.

Other apps add their own demo data with `register_demo_seeder(fn, order=...)` in ready();
each `fn(context)` gets a dict holding the users and services made here."""

from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from . import events
from . import services as svc
from .groups import ADMIN, RESPONDER, VIEWER, ensure_groups
from .models import Incident, IncidentType, Role, Service, Severity, StatusUpdate, TimelineEvent, Visibility

_seeders: dict[str, tuple[int, Callable]] = {}


def register_demo_seeder(fn: Callable, *, order: int = 50) -> None:
    _seeders[f"{fn.__module__}.{fn.__qualname__}"] = (order, fn)


PEOPLE = [
    # username, first, last, group, staff
    ("admin", "Ada", "Admin", ADMIN, True),
    ("dana", "Dana", "Smith", RESPONDER, False),
    ("sam", "Sam", "Okafor", RESPONDER, False),
    ("lee", "Lee", "Nakamura", RESPONDER, False),
    ("maria", "Maria", "Garcia", RESPONDER, False),
    ("viewer", "Victor", "Viewer", VIEWER, False),
]

SERVICES = [
    ("API", "api", "Public REST API and SDK backends.", "Platform"),
    ("Web app", "web-app", "The customer-facing web application.", "Frontend"),
    ("Database", "database", "Primary PostgreSQL cluster.", "Platform"),
    ("Payments", "payments", "Checkout and billing.", "Payments"),
    ("Message delivery", "message-delivery", "Notification and message fan-out.", "Messaging"),
    ("Authentication", "auth", "Login, SSO and sessions.", "Identity"),
]


def _shift(incident: Incident, delta: timedelta) -> None:
    """Move a freshly made demo incident into the past, keeping its internal spacing."""
    fields = ["declared_at", "started_at", "acknowledged_at", "last_acknowledged_at", "reopened_at", "identified_at", "mitigated_at", "resolved_at"]
    values = {f: getattr(incident, f) - delta for f in fields if getattr(incident, f)}
    values["number"] = svc.next_incident_number(values["declared_at"])  # numbered by the day it was declared
    Incident.objects.filter(pk=incident.pk).update(**values)
    past = list(TimelineEvent.objects.filter(incident=incident))
    for event in past:
        TimelineEvent.objects.filter(pk=event.pk).update(occurred_at=event.occurred_at - delta)
    events.events_skip([event.pk for event in past])
    for update in StatusUpdate.objects.filter(incident=incident):
        StatusUpdate.objects.filter(pk=update.pk).update(created_at=update.created_at - delta)


def _space(incident: Incident, minutes: list[int]) -> None:
    """Spread the incident's events over minutes after declaration (demo realism)."""
    events = list(TimelineEvent.objects.filter(incident=incident).order_by("pk"))
    start = incident.declared_at
    for event, m in zip(events, minutes, strict=False):
        TimelineEvent.objects.filter(pk=event.pk).update(occurred_at=start + timedelta(minutes=m))
    inc = Incident.objects.get(pk=incident.pk)
    stamps = {}
    for field, kind in (("acknowledged_at", "acknowledged"), ("mitigated_at", "mitigated"), ("resolved_at", "resolved")):
        ev = TimelineEvent.objects.filter(incident=incident, kind=kind).order_by("pk").first()
        if ev and getattr(inc, field):
            stamps[field] = ev.occurred_at
    ident = TimelineEvent.objects.filter(incident=incident, kind="status_changed", data__to="identified").first()
    if ident and inc.identified_at:
        stamps["identified_at"] = ident.occurred_at
    if "acknowledged_at" in stamps:
        stamps["last_acknowledged_at"] = stamps["acknowledged_at"]
    if stamps:
        Incident.objects.filter(pk=incident.pk).update(**stamps)
    for update in StatusUpdate.objects.filter(incident=incident):
        ev = TimelineEvent.objects.filter(incident=incident, kind="status_update", data__update=update.pk).first()
        if ev:
            StatusUpdate.objects.filter(pk=update.pk).update(created_at=ev.occurred_at)


@transaction.atomic
def seed(password: str, stdout=None) -> bool:
    """Create the demo data set once; returns False when it is already there."""
    User = get_user_model()
    if User.objects.filter(username="dana").exists():
        return False
    ensure_groups()
    users = {}
    for username, first, last, group, staff in PEOPLE:
        user = User.objects.create_user(username, f"{username}@example.com", password, first_name=first, last_name=last)
        user.is_staff = staff
        user.is_superuser = username == "admin"
        user.save()
        user.groups.add(Group.objects.get(name=group))
        users[username] = user
    services = {slug: Service.objects.create(name=n, slug=slug, description=d, team=t) for n, slug, d, t in SERVICES}
    sev = {s.key: s for s in Severity.objects.all()}
    dana, sam, lee, maria = users["dana"], users["sam"], users["lee"], users["maria"]

    def past(title, severity, svcs, source, days_ago, steps, minutes, root="", fp=False, impact="", incident_type=None, summary=""):
        inc = svc.incident_declare(title=title, severity=sev[severity], by=dana, services=[services[s] for s in svcs],
                                   detection_source=source, impact=impact, commander=sam, incident_type=incident_type)
        for step in steps:
            step(inc)
        svc.incident_resolve(incident=inc, by=sam, summary=summary or f"Fixed: {title.lower()}.", root_cause_tag=root, false_positive=fp)
        inc.refresh_from_db()
        _space(inc, minutes)
        inc.refresh_from_db()
        _shift(inc, timedelta(days=days_ago))
        return inc

    def ack(user):
        return lambda i: svc.incident_acknowledge(incident=i, by=user)

    def status(s, msg=""):
        return lambda i: svc.incident_change_status(incident=i, status=s, by=sam, message=msg)

    def update(body, vis=Visibility.PUBLIC):
        return lambda i: svc.incident_post_update(incident=i, body=body, visibility=vis, by=maria)

    if "P1" in sev and "P2" in sev and "P0" in sev:
        past("Checkout failing for card payments", "P1", ["payments", "api"], "alert", 20,
             [ack(dana), update("We are investigating failed card payments at checkout."), status("identified", "Expired TLS certificate on the payment gateway client"),
              update("We found the cause and are rolling out a fix."), status("monitoring")],
             [0, 0, 3, 4, 9, 10, 31, 33, 55, 58], root="certificate-expiry",
             impact="About 30% of card payments failed.")
        past("Elevated API latency (p95 > 3 s)", "P2", ["api", "database"], "monitoring", 12,
             [ack(lee), status("identified", "Slow query after index drop"), status("monitoring")],
             [0, 0, 2, 12, 40, 95, 130], root="missing-index")
        past("Login page blank on Safari", "P2", ["web-app", "auth"], "customer", 6,
             [ack(dana), update("Some Safari users see a blank login page."), status("identified")],
             [0, 0, 20, 25, 70, 140], root="frontend-regression")
        past("Database primary unreachable", "P0", ["database", "api", "web-app"], "alert", 3,
             [ack(dana), update("The service is unavailable. We are investigating."), status("identified", "Disk full on primary"),
              update("Failing over to the replica."), status("monitoring")],
             [0, 0, 2, 3, 6, 7, 18, 19, 27, 41], root="disk-full",
             impact="All API requests failed; the web app was down.")
        past("Disk alert on batch host", "P2", ["database"], "alert", 1, [ack(lee)], [0, 0, 4, 6], fp=True)
        drill = IncidentType.objects.filter(key="drill", is_drill=True).first()
        if drill is not None:
            past("Game day: database primary failover", "P2", ["database"], "staff", 9,
                 [ack(lee), status("identified", "Primary stopped on purpose"), status("monitoring")],
                 [0, 0, 4, 6, 18, 25, 34], incident_type=drill,
                 summary="Failover took 7 min against a 5 min goal; the runbook's promote step was out of date (fixed).")

        live = svc.incident_declare(
            title="Message delivery rate below 95%", severity=sev["P1"], by=dana,
            services=[services["message-delivery"], services["api"]], detection_source="alert",
            summary="Delivery success rate dropped to 91% in us-east.", impact="Some messages are delayed by several minutes.",
            commander=sam,
        )
        svc.incident_acknowledge(incident=live, by=sam)
        svc.incident_assign_role(incident=live, role=Role.COMMS_LEAD, user=maria, by=sam)
        svc.incident_add_responder(incident=live, user=lee, by=sam)
        svc.incident_add_note(incident=live, body="Deploy 2024.11.3 went out shortly before the drop.", by=lee,
                              occurred_at=timezone.now() - timedelta(minutes=20))
        svc.incident_post_update(incident=live, body="We are investigating delayed message delivery.", visibility=Visibility.PUBLIC, by=maria)
        svc.incident_change_status(incident=live, status="identified", by=sam, message="Queue consumers crash-looping after deploy")
        svc.incident_declare(
            title="Intermittent 502s on the web app", severity=sev["P2"], by=lee, services=[services["web-app"]],
            detection_source="customer", impact="A few customers report occasional errors.",
        )
    context = {"users": users, "services": services, "severities": sev}
    for _order, fn in sorted(_seeders.values(), key=lambda x: x[0]):
        fn(context)
    return True



