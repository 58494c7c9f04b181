"""Staff pages. Views read through selectors and change state only through services."""

import hashlib

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import quote_etag
from django.views.decorators.http import require_GET, require_POST

from . import forms, selectors, services
from .colours import text_on
from .communications import render_all
from .exceptions import DomainError, InvalidTransition
from .extensions import dashboard_panels, drills_panels, incident_panels, render_panels
from .models import Incident, IncidentChecklistItem, IncidentStatus, Role
from .rules import RESPOND


def not_found(request, exception=None):
    return render(request, "404.html", status=404)


def permission_denied(request, exception=None):
    """Every refused staff page: the layout with its navigation and the reason; JSON under /api/."""
    reason = str(exception or "") or "Your account does not have the permission this needs."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": reason}, status=403)
    return render(request, "403.html", {"reason": reason}, status=403)


@require_GET
def severity_css(request):
    """Each severity's badge colour as a stylesheet (`.sev-<id>`), so pages carry no inline
    style under the Content-Security-Policy. Revalidated by ETag on every page view. The text is
    black or white, whichever contrasts more with the colour (an admin picks the colours)."""
    css = "".join(f".sev-{pk}{{background:{colour};color:{text_on(colour)}}}\n"  # hex, validated
                  for pk, colour in selectors.severity_colours())
    etag = quote_etag(hashlib.md5(css.encode(), usedforsecurity=False).hexdigest())
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    return response


def dashboard(request):
    groups = selectors.dashboard_open_by_severity(request.user)
    return render(request, "incidents/dashboard.html", {
        "groups": groups,
        "open_count": sum(1 for _, items in groups for incident, _clock in items if not incident.is_drill),
        "open_drills": sum(1 for _, items in groups for incident, _clock in items if incident.is_drill),
        "panels": render_panels(dashboard_panels, request),
    })


def drills(request):
    rows = selectors.drills_report(request.user)
    return render(request, "incidents/drills.html", {"rows": rows, "panels": render_panels(drills_panels, request, rows=rows)})


def incident_list(request):
    form = forms.IncidentFilterForm(request.GET or None)
    filters = {}
    if form.is_valid():
        data = form.cleaned_data
        status = data.get("status")
        filters = {
            "q": data.get("q"), "severity": data.get("severity"), "service": data.get("service"),
            "since": data.get("since"), "until": data.get("until"),
            "open_only": status == "open", "status": status if status != "open" else None,
        }
    page = Paginator(selectors.incident_list(viewer=request.user, **filters), 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "incidents/list.html", {"form": form, "page": page, "query": query.urlencode()})


def declare(request):
    preset = selectors.incident_type_by_key(request.GET.get("type", ""))
    form = forms.DeclareForm(request.POST or None, initial={"commander": request.user.pk, "type": preset})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        commander = data["commander"] or (request.user if request.user.has_perm(RESPOND) else None)
        try:
            incident = services.incident_declare(
                title=data["title"], severity=data["severity"], incident_type=data["type"], by=request.user, summary=data["summary"],
                impact=data["impact"], services=data["services"], detection_source=data["detection_source"],
                started_at=data["started_at"], commander=commander, restricted=data["restricted"],
                access_groups=data["access_groups"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"{incident.number} declared" + (
                f"; {commander.get_full_name() or commander.get_username()} is incident commander." if commander else "."
            ))
            return redirect(incident)
    return render(request, "incidents/declare.html", {
        "form": form, "severities": {s.pk: s for s in form.fields["severity"].queryset},
        "rest": [form[name] for name in form.fields if name not in ("title", "severity")],
    })


def _detail_context(request, incident, **forms_override):
    status_choices = [(s, IncidentStatus(s).label) for s in incident.allowed_statuses if s != IncidentStatus.RESOLVED]
    status_form = forms.StatusForm()
    status_form.fields["status"].choices = status_choices
    panels = render_panels(incident_panels, request, incident=incident)
    ctx = {
        "incident": incident,
        "roles": selectors.role_holders(incident),
        "role_choices": [c for c in Role.choices if c[0] != Role.RESPONDER],
        "responders": selectors.responders(incident),
        "clock": selectors.ack_clock(incident),
        "can_respond": request.user.has_perm(RESPOND),
        "status_form": status_form,
        "status_choices": status_choices,
        "severity_form": forms.SeverityForm(initial={"severity": incident.severity_id}),
        "type_form": forms.TypeForm(initial={"type": incident.type_id}),
        "missing_roles": selectors.missing_roles(incident),
        "role_form": forms.RoleForm(),
        "responder_form": forms.ResponderForm(),
        "note_form": forms.NoteForm(),
        "update_form": forms.UpdateForm(),
        "resolve_form": forms.ResolveForm(),
        "reopen_form": forms.ReopenForm(),
        "war_room_form": forms.WarRoomForm(),
        "restriction_form": forms.RestrictionForm(initial={
            "restricted": incident.restricted, "access_groups": list(incident.access_groups.all())}),
        "link_form": forms.LinkForm(),
        "edit_form": forms.EditForm(initial={
            "title": incident.title, "summary": incident.summary, "impact": incident.impact,
            "services": list(incident.services.all()),
            "started_at": timezone.localtime(incident.started_at).strftime("%Y-%m-%dT%H:%M:%S"),
        }),
        "panels": panels,
        "on_public_page": any(p["context"].get("on_public_page") for p in panels),
    }
    if not ctx["on_public_page"]:
        del ctx["resolve_form"].fields["public_message"]
    ctx.update(forms_override)
    return ctx


def _get_incident(request, number: str) -> Incident:
    try:
        return selectors.incident_detail(number, viewer=request.user)
    except Incident.DoesNotExist:
        raise Http404("No such incident") from None


def incident_detail(request, number):
    incident = _get_incident(request, number)
    return render(request, "incidents/detail.html", _detail_context(request, incident))


def communications(request, number):
    incident = _get_incident(request, number)
    return render(request, "incidents/communications.html", {"incident": incident, "rendered": render_all(incident)})


# --- actions: each a form and one service call ----------------------------------------------

ACTIONS = {
    # name: (form class, context key for the bound form on error, function(incident, data, user))
    "acknowledge": (None, None, lambda i, d, u: services.incident_acknowledge(incident=i, by=u)),
    "status": (forms.StatusForm, "status_form", lambda i, d, u: services.incident_change_status(incident=i, status=d["status"], message=d["message"], by=u)),
    "severity": (forms.SeverityForm, "severity_form", lambda i, d, u: services.incident_change_severity(incident=i, severity=d["severity"], reason=d["reason"], by=u)),
    "role": (forms.RoleForm, "role_form", lambda i, d, u: services.incident_assign_role(incident=i, role=d["role"], user=d["user"], by=u)),
    "responder": (forms.ResponderForm, "responder_form", lambda i, d, u: services.incident_add_responder(incident=i, user=d["user"], by=u)),
    "note": (forms.NoteForm, "note_form", lambda i, d, u: services.incident_add_note(incident=i, body=d["body"], occurred_at=d["occurred_at"], by=u)),
    "update": (forms.UpdateForm, "update_form", lambda i, d, u: services.incident_post_update(incident=i, body=d["body"], status=d["status"] or None, by=u)),
    "resolve": (forms.ResolveForm, "resolve_form", lambda i, d, u: services.incident_resolve(incident=i, summary=d["summary"], root_cause_tag=d["root_cause_tag"], false_positive=d["false_positive"], public_message=d["public_message"], by=u)),
    "reopen": (forms.ReopenForm, "reopen_form", lambda i, d, u: services.incident_reopen(incident=i, reason=d["reason"], by=u)),
    "edit": (forms.EditForm, "edit_form", lambda i, d, u: services.incident_update_details(incident=i, by=u, **d)),
    "type": (forms.TypeForm, "type_form", lambda i, d, u: services.incident_change_type(incident=i, incident_type=d["type"], reason=d["reason"], by=u)),
    "restriction": (forms.RestrictionForm, "restriction_form", lambda i, d, u: services.incident_set_restriction(
        incident=i, restricted=d["restricted"], access_groups=d["access_groups"], reason=d["reason"], by=u)),
    "war-room": (forms.WarRoomForm, "war_room_form", lambda i, d, u: services.incident_start_war_room(incident=i, url=d["url"], by=u)),
    "link": (forms.LinkForm, "link_form", lambda i, d, u: services.incident_add_link(incident=i, title=d["title"], url=d["url"], kind=d["kind"], by=u)),
    "unlink": (forms.LinkRemoveForm, "link_form", lambda i, d, u: services.incident_remove_link(link=_link(i, d["link"]), by=u)),
}


def _link(incident, pk: int):
    link = incident.links.filter(pk=pk).first()
    if link is None:
        raise InvalidTransition("That link was already removed.")
    return link


SUCCESS = {  # what happened and what changed, from the incident as it is now
    "acknowledge": lambda i: f"Acknowledged {i.number}: escalation to the next level stops.",
    "status": lambda i: f"Status is now {i.get_status_display()}.",
    "severity": lambda i: f"Severity is now {i.severity.key} {i.severity.label}.",
    "role": lambda i: "Role assigned: see Roles.", "responder": lambda i: "Responder added.",
    "note": lambda i: "Note added to the timeline.", "update": lambda i: "Internal update posted.",
    "resolve": lambda i: f"{i.number} resolved; escalation stopped (and if it is on the status page, a Resolved update is posted there). "
                         "Add a resolution summary any time: the postmortem asks for it.",
    "reopen": lambda i: f"Incident reopened as {i.get_status_display()}; it needs a new acknowledgement.",
    "edit": lambda i: "Incident details saved.",
    "war-room": lambda i: f"War room: {i.war_room_url}",
    "restriction": lambda i: ("Restricted: only its responders and its groups see it." if i.restricted
                              else "Restriction lifted: every viewer can read it."),
    "link": lambda i: "Link added.", "unlink": lambda i: "Link removed.",
    "type": lambda i: f"Type is now {i.type.name if i.type_id else 'not classified'}; escalation re-planned.",
}


@require_POST
def incident_action(request, number, action):
    if action not in ACTIONS:
        raise Http404("Unknown action")
    incident = _get_incident(request, number)
    form_class, form_key, run = ACTIONS[action]
    form = form_class(request.POST) if form_class else None
    if form is not None and action == "status":
        form.fields["status"].choices = [(s, IncidentStatus(s).label) for s in IncidentStatus.values]
    if form is None or form.is_valid():
        try:
            run(incident, form.cleaned_data if form else {}, request.user)
        except DomainError as exc:
            if form is None:
                messages.error(request, exc.message)
                return redirect(incident)
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, SUCCESS[action](_get_incident(request, number)))
            return redirect(incident)
    messages.error(request, "That did not go through: see the form below.")
    incident = _get_incident(request, number)
    return render(request, "incidents/detail.html", _detail_context(request, incident, **{form_key: form, "open_form": action}), status=400)


@require_POST
def checklist_toggle(request, number, item_id):
    item = get_object_or_404(IncidentChecklistItem, pk=item_id, incident=_get_incident(request, number))
    services.checklist_set_done(item=item, done=request.POST.get("done") == "1", by=request.user)
    return redirect(item.incident.get_absolute_url() + "#checklist")
