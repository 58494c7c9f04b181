"""Read paths for notification pages and the API, and the rules about reaching people:

- `paging_plan` / `needs_account_email_method` / `unreachable`: who is reachable and how (the
  one home of that rule: paging, the person page and the policy checks all ask here). A
  contact method that failed for good (`failing_since`) is still tried, but does not count as
  a way to reach someone until a delivery gets through again.
- `awaiting_acknowledgement`: whether a page about an incident should still go out (the one
  home of that rule: delayed rule steps, acknowledge links and the acknowledge page ask here).
"""

from django.db.models import BooleanField, Case, Count, Exists, OuterRef, Q, Subquery, Value, When

from delivery.models import Delivery, DeliveryStatus
from incidents.models.incident import visible_through

from .models import PHONE_KINDS, ContactMethod, NotificationRule, RuleUrgency, StakeholderSubscription


def pageable(prefix: str = "") -> Q:
    """Contact methods paging may use: active, and a phone number only once verified and while it
    has not replied STOP (the one home of that rule)."""
    return Q(**{f"{prefix}is_active": True}) & (
        ~Q(**{f"{prefix}kind__in": PHONE_KINDS})
        | Q(**{f"{prefix}verified_at__isnull": False, f"{prefix}opted_out_at__isnull": True})
    )

# The purposes this app registers with the delivery layer (oncall.notifications.purposes).
PAGING, STAKEHOLDERS = "paging", "stakeholders"


def awaiting_acknowledgement(incident) -> bool:
    """A page about `incident` still has a point: it is open and nobody acknowledged it."""
    return incident is not None and incident.is_open and not incident.is_acknowledged


def paging_plan(user, urgency: str = RuleUrgency.HIGH) -> list[tuple[ContactMethod, int]]:
    """(contact method, delay in minutes) for the user's active methods, per their rules of that
    urgency (low urgency with no low-urgency rule: the high-urgency rules); a user without rules
    gets every active method at once."""
    rules = NotificationRule.objects.filter(pageable("contact_method__"), user=user, contact_method__user=user)
    chosen = list(rules.filter(urgency=urgency).select_related("contact_method").order_by("delay_minutes", "pk"))
    if not chosen and urgency != RuleUrgency.HIGH:
        chosen = list(rules.filter(urgency=RuleUrgency.HIGH).select_related("contact_method").order_by("delay_minutes", "pk"))
    if chosen:
        return [(rule.contact_method, rule.delay_minutes) for rule in chosen]
    return [(method, 0) for method in ContactMethod.objects.filter(pageable(), user=user).order_by("pk")]


def inform_methods(plan: list[tuple[ContactMethod, int]]) -> list[ContactMethod]:
    """Where an "inform" target hears about an incident: the methods of their plan (`paging_plan`
    of low urgency) that do not ring a phone, each once, at once. No method of that kind: none."""
    seen, methods = set(), []
    for method, _delay in plan:
        if method.kind not in PHONE_KINDS and method.pk not in seen:
            seen.add(method.pk)
            methods.append(method)
    return methods


def needs_account_email_method(user) -> bool:
    """Someone who set up no contact method at all is paged at their account email (a method is
    made for it on their first page)."""
    return bool(user.email) and not ContactMethod.objects.filter(user=user).exists()


def unreachable(users) -> dict[int, str]:
    """The active `users` that paging would reach nowhere, each with why: no active contact
    method (and not the account-email fallback of `needs_account_email_method`), only phone
    numbers not verified or opted out (STOP), or usable methods that all failed for good since
    their last delivery that got through."""
    users = [u for u in users if u.is_active]
    methods: dict[int, list[tuple[bool, bool, bool]]] = {}
    rows = ContactMethod.objects.filter(user__in=users).annotate(
        usable=Case(When(pageable(), then=Value(True)), default=Value(False), output_field=BooleanField()))
    for user_id, active, usable, failing in rows.values_list("user_id", "is_active", "usable", "failing_since"):
        methods.setdefault(user_id, []).append((active, usable, failing is not None))
    found = {}
    for u in users:
        own = methods.get(u.pk, [])
        if any(usable and not failing for _active, usable, failing in own):
            continue
        if any(usable for _active, usable, _failing in own):
            found[u.pk] = "has only failing contact methods (each failed for good since it last worked)"
        elif any(active for active, _usable, _failing in own):
            found[u.pk] = "has only phone numbers not verified or opted out (STOP)"
        elif own or not u.email:
            found[u.pk] = "has no active contact method"
    return found


def notification_queryset(viewer):
    """Deliveries with what the pages and the API show beside them, in the same query: the
    contact method's public id (paging) and the subscription's name (stakeholders). Those about
    incidents `viewer` may not see are left out."""
    methods = ContactMethod.objects.filter(pk=OuterRef("destination_id"))
    subs = StakeholderSubscription.objects.filter(pk=OuterRef("destination_id"))
    # destination_id is each purpose's own row: look it up only for the purpose it belongs to
    # (a status-page subscriber or a reminder's recipient with the same id is not a contact method)
    return visible_through(Delivery.objects, viewer).select_related("incident", "user").annotate(
        contact_method_public_id=Case(When(purpose=PAGING, then=Subquery(methods.values("public_id")[:1]))),
        subscription_name=Case(When(purpose=STAKEHOLDERS, then=Subquery(subs.values("name")[:1]))),
    )


def notification_list(*, viewer, incident=None, status: str | None = None, user=None):
    qs = notification_queryset(viewer)
    if incident is not None:
        qs = qs.filter(incident=incident)
    if status:
        qs = qs.filter(status=status)
    if user is not None:
        qs = qs.filter(user=user)
    return qs.order_by("-created_at", "-pk")


def _failures(method_ref):
    return Delivery.objects.filter(purpose=PAGING, destination_id=method_ref, status=DeliveryStatus.FAILED)


def contact_methods_for(user):
    sent = Delivery.objects.filter(purpose=PAGING, destination_id=OuterRef("pk"), status=DeliveryStatus.SENT).order_by("-sent_at")
    return ContactMethod.objects.filter(user=user).annotate(
        last_sent_at=Subquery(sent.values("sent_at")[:1]),
        failed_count=Subquery(
            _failures(OuterRef("pk")).order_by().values("destination_id").annotate(n=Count("pk")).values("n")[:1]
        ),
    ).order_by("kind", "pk")


def rules_for(user):
    return NotificationRule.objects.filter(user=user).select_related("contact_method").order_by("urgency", "delay_minutes", "pk")


def subscription_list():
    return StakeholderSubscription.objects.prefetch_related("severities").order_by("name")


def incident_notification_summary(incident, viewer) -> dict:
    rows = list(notification_list(viewer=viewer, incident=incident)[:50])
    return {
        "rows": rows,
        "failed": [r for r in rows if r.status == DeliveryStatus.FAILED],
        "counts": dict(
            Delivery.objects.filter(incident=incident).values_list("status").annotate(n=Count("pk")).values_list("status", "n")
        ),
    }


def people_with_reachability(queryset):
    """`queryset` of users annotated with their contact methods' state: how many, how many
    active, how many failing for good, and the latest failed delivery (time and error), in the
    same query."""
    failures = Delivery.objects.filter(
        user=OuterRef("pk"), purpose=PAGING, status=DeliveryStatus.FAILED,
    ).filter(Exists(ContactMethod.objects.filter(pk=OuterRef("destination_id")))).order_by("-updated_at")
    return queryset.annotate(
        methods_count=Count("contact_methods", distinct=True),
        methods_active=Count("contact_methods", filter=Q(contact_methods__is_active=True), distinct=True),
        methods_failing=Count("contact_methods", filter=Q(contact_methods__failing_since__isnull=False), distinct=True),
        last_failure_at=Subquery(failures.values("updated_at")[:1]),
        last_failure_error=Subquery(failures.values("error")[:1]),
    )
