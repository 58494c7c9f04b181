"""Communication templates rendered from an incident's data, ready to copy."""

from django.conf import settings
from django.template import Context, Engine, TemplateSyntaxError
from django.utils import timezone

from .models import CommunicationTemplate, Incident, IncidentStatus, Visibility
from .selectors import responders, role_holders

# A bare engine: no loaders, no custom tags, autoescape off (the text is pasted into chat).
_engine = Engine(autoescape=False, libraries={}, builtins=["django.template.defaultfilters"])


def _name(user) -> str:
    return (user.get_full_name() or user.username) if user else "—"


def incident_context(incident: Incident) -> dict:
    roles = role_holders(incident)
    end = incident.resolved_at or timezone.now()
    minutes = int((end - incident.started_at).total_seconds() // 60)
    latest_public = incident.updates.filter(visibility=Visibility.PUBLIC).first()
    sev = incident.severity
    return {
        "incident": incident,
        "title": incident.title,
        "number": incident.number,
        "severity": sev.key,
        "severity_label": sev.label,
        "status": IncidentStatus(incident.status).label,
        "impact": incident.impact or "(impact not yet described)",
        "summary": incident.summary,
        "services": ", ".join(s.name for s in incident.services.all()) or "(no service named)",
        "started": timezone.localtime(incident.started_at).strftime("%Y-%m-%d %H:%M %Z"),
        "ended": timezone.localtime(incident.resolved_at).strftime("%Y-%m-%d %H:%M %Z") if incident.resolved_at else "",
        "duration_minutes": minutes,
        "commander": _name(roles.get("commander")),
        "tech_lead": _name(roles.get("tech_lead")),
        "comms_lead": _name(roles.get("comms_lead")),
        "responders": ", ".join(_name(u) for u in responders(incident)) or "—",
        "cadence_minutes": int(sev.update_cadence.total_seconds() // 60) if sev.update_cadence else None,
        "resolved": incident.status == IncidentStatus.RESOLVED,
        "resolution": incident.resolution_summary,
        "root_cause": incident.root_cause_tag,
        "latest_update": latest_public.body if latest_public else "",
        "link": f"{settings.SITE_URL}{incident.get_absolute_url()}",
        "war_room": incident.war_room_url,
        "links": [{"title": link.title, "url": link.url, "kind": link.get_kind_display()} for link in incident.links.all()],
        "type": incident.type.name if incident.type_id else "",
        "drill": incident.is_drill,
    }


def render_template(template: CommunicationTemplate, incident: Incident, context: dict | None = None) -> str:
    """The template over the incident's data, or over `context` when given (the status page's
    automatic updates pass only public data: nobody reviews them before they go out)."""
    try:
        return _engine.from_string(template.body).render(Context(context if context is not None else incident_context(incident))).strip()
    except TemplateSyntaxError as exc:
        return f"(This template has an error and cannot be rendered: {exc})"


def render_all(incident: Incident) -> list[tuple[CommunicationTemplate, str]]:
    return [(t, render_template(t, incident)) for t in CommunicationTemplate.objects.all()]
