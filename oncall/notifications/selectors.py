"""Read paths for notification pages and the API, and the rules about reaching people:

- `paging_plan` / `needs_account_email_method` / `unreachable`: who is reachable and how (the
  one home of that rule: paging, the person page and the policy checks all ask here). A
  contact method that failed for good (`failing_since`) is still tried, but does not count as
  a way to reach someone until a delivery gets through again.
- `awaiting_acknowledgement`: whether a page about an incident should still go out (the one
  home of that rule: delayed rule steps, acknowledge links and the acknowledge page ask here).
"""

from django.db.models import Count, Exists, OuterRef, Q, Subquery

from delivery.models import Delivery, DeliveryStatus

from .models import ContactMethod, NotificationRule, StakeholderSubscription

# The purposes this app registers with the delivery layer (oncall.notifications.purposes).
PAGING, STAKEHOLDERS = "paging", "stakeholders"


def awaiting_acknowledgement(incident) -> bool:
    """A page about `incident` still has a point: it is open and nobody acknowledged it."""
    return incident is not None and incident.is_open and not incident.is_acknowledged


def paging_plan(user) -> list[tuple[ContactMethod, int]]:
    """(contact method, delay in minutes) for the user's active methods, per their rules; a user
    without rules gets every active method at once."""
    rules = list(
        NotificationRule.objects.filter(user=user, contact_method__is_active=True, contact_method__user=user)
        .select_related("contact_method").order_by("delay_minutes", "pk")
    )
    if rules:
        return [(rule.contact_method, rule.delay_minutes) for rule in rules]
    return [(method, 0) for method in ContactMethod.objects.filter(user=user, is_active=True).order_by("pk")]


def needs_account_email_method(user) -> bool:
    """Someone who set up no contact method at all is paged at their account email (a method is
    made for it on their first page)."""
    return bool(user.email) and not ContactMethod.objects.filter(user=user).exists()


def unreachable(users) -> dict[int, str]:
    """The active `users` that paging would reach nowhere, each with why: no active contact
    method (and not the account-email fallback of `needs_account_email_method`), or active
    methods that all failed for good since their last delivery that got through."""
    users = [u for u in users if u.is_active]
    methods: dict[int, list[tuple[bool, bool]]] = {}
    for user_id, active, failing in ContactMethod.objects.filter(user__in=users).values_list("user_id", "is_active", "failing_since"):
        methods.setdefault(user_id, []).append((active, failing is not None))
    found = {}
    for u in users:
        own = methods.get(u.pk, [])
        if any(active and not failing for active, failing in own):
            continue
        if any(active for active, _failing in own):
            found[u.pk] = "has only failing contact methods (each failed for good since it last worked)"
        elif own or not u.email:
            found[u.pk] = "has no active contact method"
    return found


def notification_queryset():
    """Deliveries with what the pages and the API show beside them, in the same query: the
    contact method's public id (paging) and the subscription's name (stakeholders)."""
    methods = ContactMethod.objects.filter(pk=OuterRef("destination_id"))
    subs = StakeholderSubscription.objects.filter(pk=OuterRef("destination_id"))
    return Delivery.objects.select_related("incident", "user").annotate(
        contact_method_public_id=Subquery(methods.values("public_id")[:1]),
        subscription_name=Subquery(subs.values("name")[:1]),
    )


def notification_list(*, incident=None, status: str | None = None, user=None):
    qs = notification_queryset()
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
    return ContactMethod.objects.filter(user=user).annotate(
        failed_count=Subquery(
            _failures(OuterRef("pk")).order_by().values("destination_id").annotate(n=Count("pk")).values("n")[:1]
        ),
    ).order_by("kind", "pk")


def rules_for(user):
    return NotificationRule.objects.filter(user=user).select_related("contact_method").order_by("delay_minutes", "pk")


def subscription_list():
    return StakeholderSubscription.objects.prefetch_related("severities").order_by("name")


def incident_notification_summary(incident) -> dict:
    rows = list(notification_list(incident=incident)[:50])
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
