"""Staff side of the status page: the one-step public update from the incident page, maintenance
windows, and an overview of the components. Views call selectors and services only."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from incidents import selectors as core_selectors
from incidents.communications import render_template, templates_for
from incidents.exceptions import DomainError
from incidents.models import Incident, IncidentStatus, Maintenance, MaintenanceStatus, Role, Visibility

from . import services
from .forms import MaintenanceForm, MaintenanceStepForm, PublishForm
from .models import ComponentImpact, ComponentStatus, PublicIncident, StatusComponent

PUBLISH = services.PUBLISH


def incident_panel_context(request, incident: Incident) -> dict | None:
    """The panel on the staff incident page: is it public, which components it affects."""
    if not request.user.has_perm("incidents.view_incident") or not incident.may_be_public:
        return None  # a drill, or a type kept off the public page: nothing to publish
    pub = PublicIncident.objects.filter(incident=incident).first()
    impacts = list(ComponentImpact.objects.filter(incident=incident).select_related("component"))
    comms = next((m.user for m in incident.members.all() if m.role == Role.COMMS_LEAD), None)
    last_public = incident.updates.filter(visibility=Visibility.PUBLIC).order_by("-created_at", "-pk").first() if pub else None
    return {
        "incident": incident, "pub": pub, "impacts": impacts, "comms_lead": comms, "last_public": last_public,
        "on_public_page": pub is not None,
        "public_behind": bool(last_public and incident.status == IncidentStatus.RESOLVED and last_public.status != IncidentStatus.RESOLVED),
        "can_publish": request.user.has_perm(PUBLISH), "has_components": StatusComponent.objects.exists(),
    }


class _PreviewUpdate:
    """What the public template needs to show an update that is not saved yet."""

    def __init__(self, status, body, affected):
        self.status, self.body, self.created_at = status, body, timezone.now()
        self.public_info = type("Info", (), {"affected_components": affected})()

    def get_status_display(self):
        return IncidentStatus(self.status).label


def publish(request, number):
    try:
        incident = core_selectors.incident_detail(number, viewer=request.user)
    except Incident.DoesNotExist:
        raise Http404("No such incident") from None
    components = list(StatusComponent.objects.filter(archived_at__isnull=True).order_by("position", "name"))
    templates = templates_for(incident)
    pub = PublicIncident.objects.filter(incident=incident).first()
    current = {i.component_id: i.status for i in ComponentImpact.objects.filter(incident=incident)}
    preview = None
    if request.method == "POST":
        form = PublishForm(request.POST, components=components, templates=templates)
        if form.is_valid():
            data = form.cleaned_data
            if "load" in request.POST:
                chosen = next((t for t in templates if str(t.pk) == data["template"]), None) or services.template_for(data["status"], templates)
                if chosen is not None:
                    post = request.POST.copy()
                    post["body"] = render_template(chosen, incident)
                    post["template"] = str(chosen.pk)
                    form = PublishForm(post, components=components, templates=templates)
                    form.is_valid()
            elif "preview" in request.POST:
                affected = [
                    {"name": c.name, "new_status": state} for c, state in form.component_states().items()
                ]
                preview = _PreviewUpdate(data["status"], data["body"], affected)
            else:
                try:
                    services.incident_publish_update(
                        incident=incident, body=data["body"], status=data["status"], components=form.component_states(),
                        name=data["name"], by=request.user,
                    )
                except DomainError as exc:
                    form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                else:
                    messages.success(request, "Published to the status page. Subscribers are being notified.")
                    return redirect(incident)
    else:
        status = incident.status
        initial = {"name": pub.name if pub else incident.title, "status": status}
        chosen = services.template_for(status, templates)
        if chosen is not None:
            initial["template"] = str(chosen.pk)
            initial["body"] = render_template(chosen, incident)
        for c in components:
            if c.pk in current:
                initial[f"component_{c.pk}"] = current[c.pk]
            elif c.service_id in {s.pk for s in incident.services.all()} and not pub:
                initial[f"component_{c.pk}"] = ComponentStatus.PARTIAL_OUTAGE
        form = PublishForm(initial=initial, components=components, templates=templates)
    return render(request, "statuspage/staff/publish.html", {
        "incident": incident, "form": form, "pub": pub, "preview": preview, "status_labels": dict(ComponentStatus.choices),
    }, status=400 if form.errors else 200)


def overview(request):
    return render(request, "statuspage/staff/overview.html", {
        "components": StatusComponent.objects.select_related("service", "group").order_by("position", "name"),
        "maintenances": Maintenance.objects.exclude(status=MaintenanceStatus.COMPLETED).prefetch_related("services").order_by("scheduled_for"),
        "past": Maintenance.objects.filter(status=MaintenanceStatus.COMPLETED).prefetch_related("services").order_by("-scheduled_for")[:10],
        "can_edit": request.user.has_perm("incidents.change_maintenance"),
        "can_add": request.user.has_perm("incidents.add_maintenance"),
    })


def _save_maintenance(request, form, maintenance=None):
    data = form.cleaned_data
    try:
        return services.maintenance_save(maintenance=maintenance, by=request.user, **data)
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return None


def maintenance_new(request):
    form = MaintenanceForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _save_maintenance(request, form):
        messages.success(request, "Maintenance window scheduled.")
        return redirect("statuspage_staff:overview")
    return render(request, "statuspage/staff/maintenance_form.html", {"form": form, "maintenance": None}, status=400 if form.errors else 200)


def maintenance_edit(request, pk):
    maintenance = get_object_or_404(Maintenance, pk=pk)
    form = MaintenanceForm(request.POST or None, initial=MaintenanceForm.initial_for(maintenance))
    step_form = MaintenanceStepForm(request.POST if "step" in request.POST else None)
    step_form.fields["status"].choices = [
        (s, MaintenanceStatus(s).label) for s in services.MAINTENANCE_MOVES[MaintenanceStatus(maintenance.status)]
    ]
    if request.method == "POST":
        if "step" in request.POST:
            if step_form.is_valid():
                try:
                    services.maintenance_advance(maintenance=maintenance, to=step_form.cleaned_data["status"],
                                                 body=step_form.cleaned_data["body"], by=request.user)
                except DomainError as exc:
                    step_form.add_error(None, exc.message)
                else:
                    messages.success(request, "Maintenance status changed.")
                    return redirect("statuspage_staff:overview")
        elif form.is_valid() and _save_maintenance(request, form, maintenance):
            messages.success(request, "Maintenance window saved.")
            return redirect("statuspage_staff:overview")
    return render(request, "statuspage/staff/maintenance_form.html", {
        "form": form, "maintenance": maintenance, "step_form": step_form,
    }, status=400 if (form.errors or step_form.errors) else 200)
