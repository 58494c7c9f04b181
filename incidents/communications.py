"""Communication templates rendered from an incident's data, ready to copy; and the templates'
configuration (created, changed, deleted: each verb checks the body compiles and writes an audit
entry, whoever calls it)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.template import Context, Engine, TemplateSyntaxError
from django.utils import timezone

from .audit import audit_record
from .exceptions import InvalidInput
from .model_update import invalid_input, model_update
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


def templates_for(incident: Incident) -> list[CommunicationTemplate]:
    """The templates the picker offers for `incident`: the generic ones and those of its type,
    where a kind the type has templates of (its own security notice) replaces the generic
    templates of that kind. Other types' templates are never offered."""
    mine = Q(incident_type__isnull=True)
    if incident.type_id:
        mine |= Q(incident_type_id=incident.type_id)
    templates = list(CommunicationTemplate.objects.filter(mine).order_by(F("incident_type").asc(nulls_last=True), "position", "name"))
    typed_kinds = {t.kind for t in templates if t.incident_type_id is not None}
    return [t for t in templates if t.incident_type_id is not None or t.kind not in typed_kinds]


def render_all(incident: Incident) -> list[tuple[CommunicationTemplate, str]]:
    return [(t, render_template(t, incident)) for t in templates_for(incident)]


# --- the templates themselves (configuration) ----------------------------------------------

TEMPLATE_FIELDS = ("name", "kind", "audience", "body", "position", "incident_type")


def _check_body(template: CommunicationTemplate) -> None:
    """A body that does not compile would only ever render as an error: refused when saved."""
    if not (template.body or "").strip():
        raise InvalidInput("Write the message.", field="body")
    try:
        _engine.from_string(template.body)
    except TemplateSyntaxError as exc:
        raise InvalidInput(f"The template does not compile: {exc}", field="body") from exc


@transaction.atomic
def communication_template_create(*, by, **fields) -> CommunicationTemplate:
    unknown = set(fields) - set(TEMPLATE_FIELDS)
    if unknown:
        raise InvalidInput(f"Cannot set {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    template = CommunicationTemplate(**fields)
    try:
        template.full_clean()
    except ValidationError as exc:
        raise invalid_input(exc) from exc
    _check_body(template)
    template.save()
    audit_record(by=by, obj=template, action="added", message=f"{template.get_kind_display()} for {template.audience}")
    return template


@transaction.atomic
def communication_template_update(*, template: CommunicationTemplate, by, **fields) -> CommunicationTemplate:
    if "body" in fields:
        _check_body(CommunicationTemplate(body=fields["body"]))
    changes = model_update(instance=template, fields=TEMPLATE_FIELDS, data=fields)
    if changes:
        audit_record(by=by, obj=template, action="changed", message=changes.describe())
    return template


@transaction.atomic
def communication_template_delete(*, template: CommunicationTemplate, by) -> None:
    """Nothing refers to a template (messages copied its text), so any may go."""
    audit_record(by=by, obj=template, action="deleted")
    template.delete()
