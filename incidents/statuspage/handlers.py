"""Reactions to the core's incident events (run by the worker, after commit; idempotent).

- a public update publishes its incident, gets its public id, and is sent to subscribers;
- an incident opened by an alert degrades the components that ask for it;
- resolving or reopening re-derives the affected components' states;
- a published postmortem puts its public summary on the incident's page;
- a type change bumps the cache version (a type kept off the page hides a published incident);
- anything else public bumps the cache version.

Nothing of a drill, or of a type kept off the public page, goes there.
"""

from incidents.event_payloads import PostmortemPublished
from incidents.models import EventKind, StatusUpdate, Visibility

from . import cache, notify, services

KINDS = {
    EventKind.DECLARED, EventKind.STATUS_CHANGED, EventKind.MITIGATED, EventKind.RESOLVED, EventKind.REOPENED,
    EventKind.STATUS_UPDATE, EventKind.EDITED, EventKind.TYPE_CHANGED, PostmortemPublished.KIND,
}


def on_incident_event(event) -> None:
    incident = event.incident
    if not incident.may_be_public:
        if event.kind == EventKind.TYPE_CHANGED:
            cache.bump_on_commit()  # published before, hidden now (the public selectors leave it out)
        return
    data = event.data or {}
    if event.kind == EventKind.DECLARED and data.get("detection_source") == "alert":
        services.incident_degrade_on_alert(incident=incident, service_ids=data.get("services") or [])
    elif event.kind == EventKind.STATUS_UPDATE and data.get("visibility") == Visibility.PUBLIC:
        update = StatusUpdate.objects.select_related("incident").filter(pk=data.get("update"), visibility=Visibility.PUBLIC).first()
        if update is not None:
            services.public_incident_ensure(incident, now=update.created_at)
            services.public_update_ensure(update)
            notify.fan_out_update(update)
    elif event.kind in (EventKind.RESOLVED, EventKind.REOPENED, EventKind.STATUS_CHANGED, EventKind.MITIGATED):
        if event.kind == EventKind.RESOLVED:
            services.incident_publish_resolution(incident=incident, event=event)
        services.components_refresh(incident.component_impacts.values_list("component_id", flat=True))
    elif event.kind == PostmortemPublished.KIND:
        published = PostmortemPublished.from_data(data)
        services.incident_record_postmortem(incident=incident, summary=published.public_summary, url=published.url, at=event.occurred_at)
    cache.bump_on_commit()
