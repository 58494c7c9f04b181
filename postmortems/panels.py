"""Panels the postmortems app adds to the core pages (registered in apps.ready)."""

from django.utils import timezone

from . import selectors
from .models import Postmortem


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
