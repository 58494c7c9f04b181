"""Panels the postmortems app adds to the core pages (registered in apps.ready)."""

from datetime import timedelta

from django.utils import timezone

from . import gamedays, selectors
from .models import ActionItem, GameDayStatus, Postmortem


def my_action_items(request, **_kw):
    if not request.user.has_perm("postmortems.view_actionitem"):
        return None
    items = selectors.my_open_action_items(request.user)
    return {"items": items, "today": timezone.localdate()}


def incident_postmortem(request, incident=None, **_kw):
    if incident is None or not request.user.has_perm("postmortems.view_postmortem"):
        return None
    postmortem = Postmortem.objects.select_related("owner").filter(incident=incident).first()
    items = list(selectors.action_item_list(viewer=request.user, incident=incident))
    return {
        "incident": incident, "postmortem": postmortem, "items": items, "today": timezone.localdate(),
        "can_create": request.user.has_perm("postmortems.add_postmortem") and postmortem is None,
        "can_add_item": request.user.has_perm("postmortems.add_actionitem"),
    }


def drills_game_days(request, rows=(), **_kw):
    """The drills page's game days (upcoming, running, and the latest done with their results)
    and each drill's action items: measured beside the drills themselves."""
    if not request.user.has_perm("postmortems.view_gameday"):
        return None
    by_incident = {row.incident.pk: row for row in rows}
    now = timezone.now()
    game_days = list(gamedays.game_day_queryset(request.user).exclude(status=GameDayStatus.CANCELLED)
                     .filter(starts_at__gte=now - timedelta(days=400)).order_by("-starts_at", "-pk")[:50])
    items = {}
    if request.user.has_perm("postmortems.view_actionitem"):
        for item in ActionItem.objects.filter(incident_id__in=list(by_incident)).select_related("owner").order_by("pk"):
            items.setdefault(item.incident_id, []).append(item)
    entries = [{
        "game_day": gd,
        "drills": [by_incident[i.pk] for i in gd.incidents.all() if i.pk in by_incident],
        "items": [item for i in gd.incidents.all() for item in items.get(i.pk, [])],
    } for gd in game_days]
    return {
        "entries": entries,
        "items": [(by_incident[pk].incident, its) for pk, its in items.items()],
        "can_plan": request.user.has_perm("postmortems.add_gameday"),
        "today": timezone.localdate(),
    }
