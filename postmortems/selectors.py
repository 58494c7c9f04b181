"""Read paths: what the postmortem pages, the action-item list and the API show."""

from datetime import date

from django.db.models import F, Prefetch, QuerySet
from django.utils import timezone

from incidents.models.incident import visible_through
from incidents.selectors import restricted_read_audit

from .models import ACTION_OPEN_STATUSES, ActionItem, Postmortem, PostmortemSection


def postmortem_queryset(viewer) -> QuerySet[Postmortem]:
    """Postmortems of the incidents `viewer` may see."""
    return visible_through(Postmortem.objects, viewer).select_related("incident__severity", "owner", "template", "published_by").prefetch_related(
        "reviewers", Prefetch("sections", queryset=PostmortemSection.objects.order_by("position", "pk")),
    )


def postmortem_list(*, viewer, status: str | None = None, owner=None) -> QuerySet[Postmortem]:
    qs = postmortem_queryset(viewer)
    if status:
        qs = qs.filter(status=status)
    if owner is not None:
        qs = qs.filter(owner=owner)
    return qs.order_by("-created_at", "-pk")


def postmortem_for_incident(number: str, *, viewer) -> Postmortem:
    postmortem = postmortem_queryset(viewer).get(incident__number=number)
    restricted_read_audit(postmortem.incident, viewer)
    return postmortem


def action_item_queryset(viewer) -> QuerySet[ActionItem]:
    """Action items of the incidents `viewer` may see."""
    return visible_through(ActionItem.objects, viewer).select_related("incident__severity", "owner", "postmortem")


def action_item_list(*, viewer, owner=None, category=None, status=None, overdue: bool = False, incident=None, today: date | None = None) -> QuerySet[ActionItem]:
    today = today or timezone.localdate()
    qs = action_item_queryset(viewer)
    if owner is not None:
        qs = qs.filter(owner=owner)
    if category:
        qs = qs.filter(category=category)
    if status == "open_any":
        qs = qs.filter(status__in=ACTION_OPEN_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(status__in=ACTION_OPEN_STATUSES, due_date__lt=today)
    if incident is not None:
        qs = qs.filter(incident=incident)
    return qs.order_by("due_date", "pk")


def my_open_action_items(user, limit: int = 8) -> list[ActionItem]:
    return list(
        action_item_queryset(user).filter(owner=user, status__in=ACTION_OPEN_STATUSES)
        .order_by(F("due_date").asc(nulls_last=True), "pk")[:limit]
    )
