"""The incident page's notifications panel (registered through incidents.extensions)."""

from . import selectors


def incident_notifications(request, incident=None, **_kw):
    if incident is None or not request.user.has_perm("delivery.view_delivery"):
        return None
    summary = selectors.incident_notification_summary(incident, request.user)
    if not summary["rows"]:
        return None
    return summary
