"""Read paths for notification pages and the API."""

from django.db.models import Count, OuterRef, Q, Subquery

from .models import ContactMethod, Notification, NotificationRule, NotificationStatus, StakeholderSubscription


def unreachable(users) -> set[int]:
    """Ids of the active `users` that paging would reach nowhere: no active contact method, and
    not the one fallback `services.notification_plan` uses (an account email, for someone who
    has set up no method at all)."""
    users = [u for u in users if u.is_active]
    methods: dict[int, set[bool]] = {}
    for user_id, active in ContactMethod.objects.filter(user__in=users).values_list("user_id", "is_active"):
        methods.setdefault(user_id, set()).add(active)
    return {u.pk for u in users if True not in methods.get(u.pk, set()) and (u.pk in methods or not u.email)}


def notification_queryset():
    return Notification.objects.select_related("incident", "user", "contact_method", "subscription")


def notification_list(*, incident=None, status: str | None = None, user=None):
    qs = notification_queryset()
    if incident is not None:
        qs = qs.filter(incident=incident)
    if status:
        qs = qs.filter(status=status)
    if user is not None:
        qs = qs.filter(user=user)
    return qs.order_by("-created_at", "-pk")


def contact_methods_for(user):
    return ContactMethod.objects.filter(user=user).annotate(
        failed_count=Count("notifications", filter=Q(notifications__status=NotificationStatus.FAILED)),
    ).order_by("kind", "pk")


def rules_for(user):
    return NotificationRule.objects.filter(user=user).select_related("contact_method").order_by("delay_minutes", "pk")


def subscription_list():
    return StakeholderSubscription.objects.prefetch_related("severities").order_by("name")


def incident_notification_summary(incident) -> dict:
    rows = list(notification_list(incident=incident)[:50])
    return {
        "rows": rows,
        "failed": [r for r in rows if r.status == NotificationStatus.FAILED],
        "counts": dict(
            Notification.objects.filter(incident=incident).values_list("status").annotate(n=Count("pk")).values_list("status", "n")
        ),
    }


def people_with_reachability(queryset):
    """`queryset` of users annotated with their contact methods' state: how many, how many
    active, and the latest failed delivery (time and error), in the same query."""
    failures = Notification.objects.filter(user=OuterRef("pk"), status=NotificationStatus.FAILED, contact_method__isnull=False).order_by("-updated_at")
    return queryset.annotate(
        methods_count=Count("contact_methods", distinct=True),
        methods_active=Count("contact_methods", filter=Q(contact_methods__is_active=True), distinct=True),
        last_failure_at=Subquery(failures.values("updated_at")[:1]),
        last_failure_error=Subquery(failures.values("error")[:1]),
    )
