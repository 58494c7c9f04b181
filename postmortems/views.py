"""Staff pages for postmortems, action items and metrics. Views read through selectors and change
state only through services; the rules live there."""

import csv
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from delivery import safetext
from incidents import rows
from incidents import selectors as incident_selectors
from incidents.exceptions import DomainError
from incidents.markdown import render_markdown
from incidents.models import Incident

from . import charts, forms, reports, selectors, services
from .export import postmortem_markdown
from .models import Postmortem, PostmortemStatus

User = get_user_model()
CHANGE = "postmortems.change_postmortem"


def _postmortem(request, number: str) -> Postmortem:
    try:
        return selectors.postmortem_for_incident(number, viewer=request.user)
    except Postmortem.DoesNotExist:
        raise Http404("No postmortem for this incident") from None


def _incident(request, number: str) -> Incident:
    try:
        return incident_selectors.incident_for(request.user, number=number)
    except Incident.DoesNotExist:
        raise Http404("No such incident") from None


def _local(value):
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M") if value else None


def postmortem_list(request):
    status = request.GET.get("status") or None
    if status not in PostmortemStatus.values:
        status = None
    page = Paginator(selectors.postmortem_list(viewer=request.user, status=status), 25).get_page(request.GET.get("page"))
    return render(request, "postmortems/list.html", {"page": page, "status": status, "statuses": PostmortemStatus.choices, "now": timezone.now()})


def postmortem_create(request, number):
    incident = _incident(request, number)
    if Postmortem.objects.filter(incident=incident).exists():
        return redirect("postmortems:detail", number=number)
    form = forms.PostmortemCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            postmortem = services.postmortem_create(
                incident=incident, by=request.user, owner=data["owner"], due_at=data["due_at"], template=data["template"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Postmortem opened.")
            return redirect(postmortem)
    return render(request, "postmortems/create.html", {"incident": incident, "form": form}, status=400 if form.errors else 200)


def _item_initial() -> dict:
    return {"due_date": timezone.localdate() + timedelta(days=14)}


def _item_form(data=None):
    """The "add an action item" fields, part of the write-up form (so adding an item never loses
    the write-up being typed, nor the write-up the item)."""
    return forms.ActionItemForm(data, creating=True, prefix="item", auto_id="id_%s", initial=_item_initial())


def _detail_context(request, postmortem, **extra):
    incident = postmortem.incident
    can_change = request.user.has_perm(CHANGE) and postmortem.is_editable
    items = list(selectors.action_item_list(viewer=request.user, incident=incident))
    ctx = {
        "postmortem": postmortem,
        "incident": incident,
        "sections": list(postmortem.sections.all()),
        "items": items,
        "today": timezone.localdate(),
        "meeting_overdue": postmortem.meeting_overdue(timezone.now()),
        "can_change": can_change,
        "can_publish": request.user.has_perm("postmortems.publish_postmortem"),
        "missing": services.missing_required_sections(postmortem),
        "incomplete": services.incomplete_action_items(postmortem),
        "details_form": forms.PostmortemDetailsForm(auto_id="id_pm_%s", initial={
            "title": postmortem.title, "owner": postmortem.owner_id, "due_at": _local(postmortem.due_at),
            "reviewers": [u.pk for u in postmortem.reviewers.all()], "review_meeting_at": _local(postmortem.review_meeting_at),
            "review_meeting_place": postmortem.review_meeting_place, "public_summary": postmortem.public_summary,
        }),
        "item_form": _item_form(),
        "events": list(incident.timeline.select_related("actor").order_by("occurred_at", "pk")) if can_change else [],
        "key_kinds": services.KEY_EVENT_KINDS,
        "previews": {},
        "publish_summary": None,
    }
    ctx.update(extra)
    return ctx


def postmortem_detail(request, number):
    postmortem = _postmortem(request, number)
    return render(request, "postmortems/detail.html", _detail_context(request, postmortem))


def _as_typed(request, postmortem, bodies: dict, item_form, *, status=200, **extra):
    """The page again with everything as the person typed it (sections, the action item)."""
    sections = list(postmortem.sections.all())
    for section in sections:
        section.body = bodies.get(section.key, section.body)
    return render(request, "postmortems/detail.html",
                  _detail_context(request, postmortem, sections=sections, item_form=item_form, unsaved=bool(bodies), **extra),
                  status=status)


def _quiet_copy(form):
    """A bound form shown again without its errors (a preview is not a failed save)."""
    rows.quiet(form)
    return form


@require_POST
def postmortem_sections(request, number):
    """The write-up form: Save write-up, Preview (rendered, not saved) or Add action item (saves
    the write-up and adds the item in one go). Whatever goes wrong, the page comes back with the
    text as typed."""
    postmortem = _postmortem(request, number)
    bodies = {s.key: request.POST.get(f"section-{s.key}", s.body) for s in postmortem.sections.all()}
    item_form = _item_form(request.POST)
    if "preview" in request.POST:
        previews = {key: render_markdown(body) for key, body in bodies.items()}
        return _as_typed(request, postmortem, bodies, _quiet_copy(item_form), previews=previews)
    adding = "add_item" in request.POST
    if adding and not item_form.is_valid():
        messages.error(request, "The action item needs fixing (see below); nothing was saved yet, and your text is kept.")
        return _as_typed(request, postmortem, bodies, item_form, status=400)
    try:
        with transaction.atomic():
            services.postmortem_update(postmortem=postmortem, by=request.user, sections=bodies)
            if adding:
                data = item_form.cleaned_data
                services.action_item_create(
                    incident=postmortem.incident, postmortem=postmortem, by=request.user, title=data["title"],
                    description=data["description"], owner=data["owner"], due_date=data["due_date"], category=data["category"],
                    priority=data["priority"], ticket_url=data["ticket_url"])
    except DomainError as exc:
        if adding and exc.field in item_form.fields:
            item_form.add_error(exc.field, exc.message)
        messages.error(request, f"Not saved: {exc.message} Your text is kept below.")
        return _as_typed(request, postmortem, bodies, item_form, status=400)
    if adding:
        messages.success(request, "Action item added; the write-up was saved with it.")
        return redirect(postmortem.get_absolute_url() + "#section-action-items")
    if any(request.POST.get(f"item-{name}", "").strip() for name in ("title", "description", "ticket_url")):
        messages.info(request, "Write-up saved. The action item you started is not added yet: finish it and press Add action item.")
        return _as_typed(request, _postmortem(request, number), {}, _quiet_copy(item_form))
    messages.success(request, "Postmortem saved.")
    return redirect(postmortem.get_absolute_url() + "#sections")


@require_POST
def postmortem_details(request, number):
    postmortem = _postmortem(request, number)
    form = forms.PostmortemDetailsForm(request.POST, auto_id="id_pm_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.postmortem_update(
                postmortem=postmortem, by=request.user, title=data["title"], owner=data["owner"], due_at=data["due_at"],
                reviewers=data["reviewers"], review_meeting_at=data["review_meeting_at"],
                review_meeting_place=data["review_meeting_place"], public_summary=data["public_summary"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Details saved.")
            return redirect(postmortem)
    messages.error(request, "That did not go through: see the form below.")
    postmortem = _postmortem(request, number)
    return render(request, "postmortems/detail.html", _detail_context(request, postmortem, details_form=form, open_form="details"), status=400)


@require_POST
def postmortem_timeline(request, number):
    postmortem = _postmortem(request, number)
    try:
        services.postmortem_rebuild_timeline(postmortem=postmortem, event_ids=request.POST.getlist("events"), by=request.user)
    except (DomainError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", "Choose events of this incident."))
    else:
        messages.success(request, "Timeline section rebuilt from the chosen events; edit it below.")
    return redirect(postmortem.get_absolute_url() + "#sections")


TRANSITIONS = {
    "submit": (lambda pm, user, post: services.postmortem_submit_for_review(postmortem=pm, by=user), "Sent for review.", CHANGE),
    "draft": (lambda pm, user, post: services.postmortem_return_to_draft(postmortem=pm, by=user), "Back to draft.", CHANGE),
    "publish": (
        lambda pm, user, post: services.postmortem_publish(postmortem=pm, by=user, public_summary=post.get("public_summary")),
        "Postmortem published.", "postmortems.publish_postmortem",
    ),
}


@require_POST
def postmortem_transition(request, number, action):
    if action not in TRANSITIONS:
        raise Http404("Unknown action")
    run, success, perm = TRANSITIONS[action]
    if not request.user.has_perm(perm):
        return HttpResponse("Forbidden", status=403)
    postmortem = _postmortem(request, number)
    try:
        run(postmortem, request.user, request.POST)
    except DomainError as exc:
        messages.error(request, exc.message)
        if action == "publish":  # the public summary typed into the publish form comes back with the reason
            return render(request, "postmortems/detail.html", _detail_context(
                request, _postmortem(request, number), publish_summary=request.POST.get("public_summary", "")), status=400)
    else:
        messages.success(request, success)
    return redirect(postmortem)


def postmortem_print(request, number):
    postmortem = _postmortem(request, number)
    return render(request, "postmortems/print.html", {"postmortem": postmortem, "document": render_markdown(postmortem_markdown(postmortem))})


def postmortem_export(request, number):
    postmortem = _postmortem(request, number)
    response = HttpResponse(postmortem_markdown(postmortem), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="postmortem-{postmortem.incident.number}.md"'
    return response


# --- action items ------------------------------------------------------------------------------


def action_items(request):
    form = forms.ActionItemFilterForm(request.GET or None)
    filters, owner_error = {}, None
    if form.is_valid():
        data = form.cleaned_data
        owner = (data.get("owner") or "").strip()
        if owner:
            user = request.user if owner == "me" else User.objects.filter(username=owner).first()
            if user is None:
                owner_error = f"No user {owner!r}."
                filters["owner"] = User(pk=0)
            else:
                filters["owner"] = user
        filters.update(category=data.get("category"), status=data.get("status"), overdue=data.get("overdue"))
    page = Paginator(selectors.action_item_list(viewer=request.user, **filters), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "postmortems/action_items.html", {
        "form": form, "page": page, "today": timezone.localdate(), "query": query.urlencode(), "owner_error": owner_error,
    })


def action_item_create(request, number):
    incident = _incident(request, number)
    form = forms.ActionItemForm(request.POST or None, creating=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.action_item_create(
                incident=incident, by=request.user, title=data["title"], description=data["description"], owner=data["owner"],
                due_date=data["due_date"], category=data["category"], priority=data["priority"], ticket_url=data["ticket_url"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Action item added.")
            back = request.POST.get("next") or incident.get_absolute_url()
            return redirect(back if back.startswith("/") and not back.startswith("//") else incident.get_absolute_url())
    return render(request, "postmortems/action_item_form.html", {"incident": incident, "form": form, "item": None},
                  status=400 if form.errors else 200)


def action_item_detail(request, pk):
    item = get_object_or_404(selectors.action_item_queryset(request.user), pk=pk)
    can_change = request.user.has_perm("postmortems.change_actionitem")
    form = forms.ActionItemForm(request.POST or None, instance=None, initial={
        f: getattr(item, f) for f in ("title", "description", "due_date", "category", "priority", "status", "ticket_url")
    } | {"owner": item.owner_id})
    if request.method == "POST":
        if not can_change:
            return HttpResponse("Forbidden", status=403)
        if form.is_valid():
            try:
                services.action_item_update(item=item, by=request.user, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, "Action item saved.")
                return redirect("postmortems:action_item", pk=item.pk)
    return render(request, "postmortems/action_item_form.html", {"incident": item.incident, "form": form, "item": item, "can_change": can_change},
                  status=400 if form.errors else 200)


# --- metrics ---------------------------------------------------------------------------------


def service_series(report: reports.Report, top: int = 8) -> dict[str, list[int]]:
    """The busiest services, the rest summed as "Other services" (the chart and its table)."""
    items = list(report.weekly_by_service.items())
    series = dict(items[:top])
    if items[top:]:
        series["Other services"] = [sum(v[i] for _, v in items[top:]) for i in range(len(report.weeks))]
    return series


def metric_charts(report: reports.Report, services_shown: dict[str, list[int]]) -> dict:
    sev_bars = [r for r in report.severities if r.count]
    weeks = [w.strftime("%d %b") for w in report.weeks]
    return {
        "mttr": charts.hbar_chart("chart-mttr", "Mean time to resolve by severity, against target",
                                  [charts.Bar(r.key, r.mttr, r.mttr_target, r.colour) for r in sev_bars], reports.fmt_seconds),
        "mtta": charts.hbar_chart("chart-mtta", "Mean time to acknowledge by severity, against target",
                                  [charts.Bar(r.key, r.mtta, r.mtta_target, r.colour) for r in sev_bars], reports.fmt_seconds),
        "weekly_severity": charts.stacked_columns(
            "chart-weekly-severity", "Incidents per week by severity", weeks,
            [(r.key, r.colour, report.weekly_by_severity.get(r.key, [0] * len(weeks))) for r in report.severities],
        ),
        "weekly_service": charts.stacked_columns(
            "chart-weekly-service", "Incidents per week by service", weeks,
            [(name, charts.PALETTE[i % len(charts.PALETTE)], values) for i, (name, values) in enumerate(services_shown.items())],
        ),
        "detection": charts.share_bar("chart-detection", "How incidents were detected (dashed: alert target)",
                                      [(d["label"], d["count"]) for d in report.detection], report.alert_target),
    }


def metrics_page(request):
    form, rng = forms.range_from_params(request.GET)
    report = reports.compute(rng, viewer=request.user)
    services_shown = service_series(report)
    weekly = {
        "severity": (list(report.weekly_by_severity), _week_rows(report.weeks, report.weekly_by_severity)),
        "service": (list(services_shown), _week_rows(report.weeks, services_shown)),
    }
    return render(request, "postmortems/metrics.html", {
        "form": form, "report": report, "charts": metric_charts(report, services_shown), "weekly": weekly, "query": f"since={rng.start}&until={rng.end}",
    })


def _week_rows(weeks, series: dict[str, list[int]]) -> list[tuple]:
    columns = list(series.values())
    return [(week, [col[i] for col in columns]) for i, week in enumerate(weeks)]


def metrics_csv(request):
    _form, rng = forms.range_from_params(request.GET)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="incident-metrics-{rng.start}-{rng.end}.csv"'
    writer = csv.writer(response)
    writer.writerows(safetext.csv_row(row) for row in reports.csv_rows(reports.compute(rng, viewer=request.user)))
    return response
