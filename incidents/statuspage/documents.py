"""The documents of Atlassian Statuspage's public API v2, built from a snapshot: same paths,
field names, values and nesting, so widgets and tools made for Statuspage read this page.

Only public fields go in: the public name, public updates and their component changes, and
times the public already sees. Summaries, impact text, people and notes never do.
"""

from datetime import UTC, datetime

from incidents.models import IncidentStatus, Maintenance, MaintenanceStatus

from .models import IMPACT_RANK, ComponentStatus, PageSettings, PublicIncident, StatusComponent, worst
from .selectors import Snapshot, page_url

INDICATOR_FOR_STATUS = {
    ComponentStatus.OPERATIONAL: "none",
    ComponentStatus.UNDER_MAINTENANCE: "maintenance",
    ComponentStatus.DEGRADED_PERFORMANCE: "minor",
    ComponentStatus.PARTIAL_OUTAGE: "major",
    ComponentStatus.MAJOR_OUTAGE: "critical",
}
DESCRIPTIONS = {
    "none": "All Systems Operational",
    "maintenance": "Service Under Maintenance",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
}
INDICATOR_RANK = {"none": 0, "maintenance": 1, "minor": 2, "major": 3, "critical": 4}


def ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def page_doc(snap: Snapshot) -> dict:
    page: PageSettings = snap.page
    updated = max([page.updated_at] + [c.updated_at for c in snap.components], default=page.updated_at)
    return {"id": page.code, "name": page.name, "url": page_url(page).rstrip("/"), "time_zone": page.time_zone, "updated_at": ts(updated)}


def status_doc(snap: Snapshot) -> dict:
    """The indicator: the worst of the component states and the open incidents' impacts."""
    indicator = INDICATOR_FOR_STATUS[ComponentStatus(worst(c.status for c in snap.components))]
    for pub in snap.open_incidents:
        if INDICATOR_RANK[pub.impact] > INDICATOR_RANK[indicator]:
            indicator = pub.impact
    return {"indicator": indicator, "description": DESCRIPTIONS[indicator]}


def component_doc(c: StatusComponent, page: PageSettings) -> dict:
    return {
        "id": c.code,
        "name": c.name,
        "status": c.status,
        "created_at": ts(c.created_at),
        "updated_at": ts(c.updated_at),
        "position": c.position,
        "description": c.description or None,
        "showcase": c.showcase,
        "start_date": c.start_date.isoformat() if c.start_date else None,
        "group_id": c.group.code if c.group_id else None,
        "page_id": page.code,
        "group": False,
        "only_show_if_degraded": c.only_show_if_degraded,
    }


def components_doc(snap: Snapshot) -> list[dict]:
    """Groups appear as components with `group: true` and their children's ids."""
    entries = []
    for group in snap.groups:
        children = [c for c in snap.components if c.group_id == group.pk]
        entries.append((group.position, 0, {
            "id": group.code,
            "name": group.name,
            "status": worst(c.status for c in children),
            "created_at": ts(group.created_at),
            "updated_at": ts(max([group.updated_at] + [c.updated_at for c in children])),
            "position": group.position,
            "description": group.description or None,
            "showcase": False,
            "start_date": None,
            "group_id": None,
            "page_id": snap.page.code,
            "group": True,
            "only_show_if_degraded": False,
            "components": [c.code for c in children],
        }))
    for c in snap.components:
        entries.append((c.position, 1, component_doc(c, snap.page)))
    return [doc for _, _, doc in sorted(entries, key=lambda e: (e[0], e[1], e[2]["name"]))]


def _update_doc(update, incident_code: str) -> dict:
    info = getattr(update, "public_info", None)
    return {
        "id": info.code if info else f"u{update.pk}",
        "status": update.status,
        "body": update.body,
        "incident_id": incident_code,
        "created_at": ts(update.created_at),
        "updated_at": ts(update.created_at),
        "display_at": ts(update.created_at),
        "affected_components": (info.affected_components or None) if info else None,
        "deliver_notifications": True,
        "custom_tweet": None,
        "tweet_id": None,
    }


def incident_status(pub: PublicIncident) -> str:
    if pub.incident.status == IncidentStatus.RESOLVED and pub.postmortem_published_at and pub.postmortem_summary:
        return "postmortem"
    return pub.incident.status


def incident_doc(pub: PublicIncident, page: PageSettings) -> dict:
    inc = pub.incident
    updates = list(getattr(inc, "public_updates", []))
    monitoring = [u.created_at for u in updates if u.status == IncidentStatus.MONITORING]
    components = sorted({i.component.pk: i.component for i in getattr(inc, "impacts", [])}.values(), key=lambda c: (c.position, c.name))
    updated = max([pub.published_at] + [u.created_at for u in updates] + ([inc.resolved_at] if inc.resolved_at else []))
    return {
        "id": pub.code,
        "name": pub.name,
        "status": incident_status(pub),
        "created_at": ts(pub.published_at),
        "updated_at": ts(updated),
        "monitoring_at": ts(min(monitoring)) if monitoring else None,
        "resolved_at": ts(inc.resolved_at) if inc.status == IncidentStatus.RESOLVED else None,
        "impact": pub.impact,
        "shortlink": f"{page_url(page)}incidents/{pub.code}",
        "started_at": ts(inc.started_at),
        "page_id": page.code,
        "incident_updates": [_update_doc(u, pub.code) for u in updates],
        "components": [component_doc(c, page) for c in components],
    }


def maintenance_doc(m: Maintenance, page: PageSettings, components: dict[int, StatusComponent]) -> dict:
    code = m.statuspage.code
    comps = sorted(
        [c for c in components.values() if c.service_id in {s.pk for s in m.service_list}], key=lambda c: (c.position, c.name)
    )
    updates = [
        {
            "id": u.code, "status": u.status, "body": u.body, "incident_id": code,
            "created_at": ts(u.created_at), "updated_at": ts(u.created_at), "display_at": ts(u.created_at),
            "affected_components": u.affected_components or None, "deliver_notifications": True,
            "custom_tweet": None, "tweet_id": None,
        }
        for u in m.updates
    ]
    started = [u.created_at for u in m.updates if u.status == MaintenanceStatus.IN_PROGRESS]
    done = [u.created_at for u in m.updates if u.status == MaintenanceStatus.COMPLETED]
    return {
        "id": code,
        "name": m.title,
        "status": m.status,
        "created_at": ts(m.statuspage.created_at),
        "updated_at": ts(max([m.statuspage.created_at] + [u.created_at for u in m.updates])),
        "monitoring_at": None,
        "resolved_at": ts(max(done)) if done and m.status == MaintenanceStatus.COMPLETED else None,
        "impact": "maintenance",
        "shortlink": f"{page_url(page)}maintenances/{code}",
        "started_at": ts(min(started)) if started else ts(m.scheduled_for),
        "page_id": page.code,
        "incident_updates": updates,
        "components": [component_doc(c, page) for c in comps],
        "scheduled_for": ts(m.scheduled_for),
        "scheduled_until": ts(m.scheduled_until),
    }


def _incidents(snap: Snapshot, items) -> list[dict]:
    return [incident_doc(p, snap.page) for p in items]


def _maintenances(snap: Snapshot, items) -> list[dict]:
    by_pk = snap.components_by_pk
    return [maintenance_doc(m, snap.page, by_pk) for m in items]


def summary(snap: Snapshot) -> dict:
    return {
        "page": page_doc(snap),
        "components": components_doc(snap),
        "incidents": _incidents(snap, snap.open_incidents),
        "scheduled_maintenances": _maintenances(snap, snap.maintenances),
        "status": status_doc(snap),
    }


def document(name: str, snap: Snapshot) -> dict:
    page = page_doc(snap)
    if name == "summary":
        return summary(snap)
    if name == "status":
        return {"page": page, "status": status_doc(snap)}
    if name == "components":
        return {"page": page, "components": components_doc(snap)}
    if name == "incidents":
        return {"page": page, "incidents": _incidents(snap, snap.recent_incidents)}
    if name == "incidents_unresolved":
        return {"page": page, "incidents": _incidents(snap, snap.open_incidents)}
    if name == "scheduled_maintenances":
        return {"page": page, "scheduled_maintenances": _maintenances(snap, snap.recent_maintenances)}
    if name == "scheduled_maintenances_upcoming":
        return {"page": page, "scheduled_maintenances": _maintenances(snap, snap.upcoming_maintenances)}
    if name == "scheduled_maintenances_active":
        return {"page": page, "scheduled_maintenances": _maintenances(snap, snap.active_maintenances)}
    raise KeyError(name)


def impact_worse(a: str, b: str) -> bool:
    return IMPACT_RANK[a] > IMPACT_RANK[b]
