"""The chat core's reaction to timeline events (subscribed in ChatopsConfig.ready()): a channel
for incidents of the chosen severities, every event posted in the incident's channels, the
topic and pinned summary kept current, people invited as they are assigned, pages updated in
place, the channel archived some time after resolution. Idempotent: every row has a key."""

from django.contrib.auth import get_user_model

from incidents.exceptions import DomainError
from incidents.models import EventKind, Incident

from . import outgoing, selectors, services
from .models import Workspace

# The incident's own events (the core's kinds) and the escalation's; postmortem events come
# after the channel's life and are not posted.
KINDS = {value for name, value in vars(EventKind).items() if name.isupper()} | {"escalation.started", "escalation.stopped"}
REFRESH = {EventKind.DECLARED, EventKind.ACKNOWLEDGED, EventKind.STATUS_CHANGED, EventKind.SEVERITY_CHANGED,
           EventKind.ROLE_ASSIGNED, EventKind.ROLE_REMOVED, EventKind.MITIGATED, EventKind.RESOLVED, EventKind.REOPENED,
           EventKind.EDITED, EventKind.WAR_ROOM}
PAGE_STATE = {EventKind.ACKNOWLEDGED, EventKind.STATUS_CHANGED, EventKind.MITIGATED, EventKind.RESOLVED, EventKind.REOPENED}


def on_incident_event(event) -> None:
    incident = Incident.objects.select_related("severity").get(pk=event.incident_id)
    if not selectors.may_post(incident):
        if event.kind in PAGE_STATE:
            services.pages_refresh(incident, direct_only=True)  # the paged people's own DMs only
        return
    kind = event.kind
    if kind == EventKind.DECLARED:
        for workspace in Workspace.objects.filter(is_active=True):
            if incident.severity_id and incident.severity.key.upper() in workspace.severities():
                try:
                    services.channel_open(workspace=workspace, incident=incident)
                except DomainError:
                    pass
            services.page_post(workspace=workspace, incident=incident, channel_id=workspace.alerts_channel, key=f"declared:{event.pk}")
    for ic in selectors.channels_of(incident):
        if not kind.startswith("chat."):
            who = event.actor.get_full_name() or event.actor.get_username() if event.actor_id else event.actor_label or "System"
            services.post_line(ic, key=f"event:{event.pk}:{ic.pk}", title="", text=f"{who}: {event.message}")
        if kind in REFRESH:
            services.channel_refresh(ic)
        if kind in (EventKind.ROLE_ASSIGNED, EventKind.RESPONDER_ADDED) and (event.data or {}).get("user"):
            user = get_user_model().objects.filter(pk=event.data["user"]).first()
            services.channel_invite(ic, [user])
        if kind == EventKind.RESOLVED and incident.resolved_at:
            services.channel_archive_later(ic, incident.resolved_at)
        if kind == EventKind.REOPENED:
            outgoing.cancel_pending(incident, "archive")
    if kind in PAGE_STATE:
        services.pages_refresh(incident)
