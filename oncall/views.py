"""Staff pages for on-call. Views read through selectors and write through services."""

from datetime import timedelta

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from incidents import rows
from incidents import selectors as incident_selectors
from incidents.audit import audit_history
from incidents.exceptions import DomainError
from incidents.models import Incident
from incidents.rules import may_read_secret

from . import calendar, forms, panels, selectors, workhours
from .models import CalendarToken, EscalationPolicy, Layer, Override, Profile, Schedule
from .services import calendars, people
from .services import escalation as engine
from .services import policies as policy_svc
from .services import schedules as svc


def _form_error(form, exc: DomainError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def oncall_now(request):
    return render(request, "oncall/now.html", {"rows": selectors.oncall_now_rows()})


def schedule_list(request):
    return render(request, "oncall/schedules.html", {"rows": selectors.oncall_now_rows()})


def schedule_detail(request, pk):
    schedule = get_object_or_404(Schedule, pk=pk)
    timeline = selectors.schedule_timeline(schedule)
    now = timezone.now()
    layers = list(schedule.layers.prefetch_related("restrictions"))
    for layer in layers:
        layer.participants_text = forms.participants_text(layer)
        layer.restrictions_text = forms.restrictions_text(layer)
        layer.all_day_windows = any(r.start_time == r.end_time for r in layer.restrictions.all())
    overrides = schedule.overrides.filter(end__gt=now).select_related("user", "replaces", "layer")
    current = timeline["final"][0][2] if timeline["final"] and timeline["final"][0][0] <= now else None
    feed = (request.build_absolute_uri(reverse("oncall:ical_schedule", args=[schedule.ical_token]))
            if may_read_secret(request.user, schedule) else None)
    return render(request, "oncall/schedule.html", {
        "schedule": schedule, "timeline": timeline, "layers": layers, "overrides": overrides, "current": current,
        "note_form": forms.HandoffNoteForm(), "notes": svc.pending_notes(schedule).select_related("author")[:10],
        "recent_handoffs": schedule.handoffs.filter(status="sent").select_related("incoming", "outgoing")[:5],
        "feed_url": feed, "webcal_url": feed and "webcal://" + feed.split("://", 1)[1], "history": audit_history(schedule),
    })


def schedule_new(request):
    form = forms.ScheduleForm(request.POST or None)
    layer_form = forms.LayerForm(request.POST or None, prefix="layer", zone=request.POST.get("time_zone", "UTC") if request.POST else "UTC",
                                 initial={"starts_on": timezone.localdate()})
    preview = None
    if request.method == "POST" and "preview" in request.POST:
        if layer_form.is_valid():
            try:
                preview = selectors.layer_preview(spec=layer_form.spec(), time_zone=layer_form.zone.key)
            except DomainError as exc:
                _form_error(layer_form, exc)
    elif request.method == "POST" and form.is_valid() and layer_form.is_valid():
        try:
            schedule = svc.schedule_create(name=form.cleaned_data["name"], time_zone=form.cleaned_data["time_zone"],
                                           description=form.cleaned_data["description"], layers=[layer_form.spec()], by=request.user)
        except DomainError as exc:
            _form_error(layer_form if exc.field in layer_form.fields else form, exc)
        else:
            messages.success(request, f"Schedule “{schedule.name}” created.")
            return redirect(schedule)
    return render(request, "oncall/schedule_form.html", {"form": form, "layer_form": layer_form, "title": "New schedule",
                                                         "preview": preview})


def schedule_edit(request, pk):
    schedule = get_object_or_404(Schedule, pk=pk)
    form = forms.ScheduleForm(request.POST or None, initial={"name": schedule.name, "time_zone": schedule.time_zone,
                                                             "description": schedule.description})
    if request.method == "POST" and form.is_valid():
        try:
            svc.schedule_update(schedule=schedule, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Schedule saved.")
            return redirect(schedule)
    return render(request, "oncall/schedule_form.html", {"form": form, "schedule": schedule, "title": f"Edit {schedule.name}"})


def layer_edit(request, pk=None, schedule_pk=None):
    layer = get_object_or_404(Layer.objects.select_related("schedule"), pk=pk) if pk else None
    schedule = layer.schedule if layer else get_object_or_404(Schedule, pk=schedule_pk)
    initial = {"starts_on": timezone.localdate()}
    if layer:
        initial = {f: getattr(layer, f) for f in ("name", "rotation", "every", "handoff_time", "handoff_weekday", "weekdays_only", "starts_on")}
        initial["participants"] = forms.participants_text(layer)
        initial["restrictions"] = forms.restrictions_text(layer)
    form = forms.LayerForm(request.POST or None, zone=schedule.time_zone, initial=initial)
    preview = None
    if request.method == "POST" and "preview" in request.POST:
        if form.is_valid():
            try:
                preview = selectors.layer_preview(spec=form.spec(), time_zone=schedule.time_zone, layer=layer,
                                                  effective_from=form.cleaned_data["effective_from"])
            except DomainError as exc:
                _form_error(form, exc)
    elif request.method == "POST" and form.is_valid():
        try:
            if layer:
                svc.layer_update(layer=layer, spec=form.spec(), effective_from=form.cleaned_data["effective_from"], by=request.user)
            else:
                svc.layer_add(schedule=schedule, spec=form.spec(), by=request.user)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Layer saved.")
            return redirect(schedule)
    return render(request, "oncall/layer_form.html", {"form": form, "schedule": schedule, "layer": layer, "preview": preview})


@require_POST
def layer_delete(request, pk):
    layer = get_object_or_404(Layer, pk=pk)
    schedule = layer.schedule
    try:
        svc.layer_delete(layer=layer, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Layer “{layer.name}” deleted.")
    return redirect(schedule)


def override_new(request, pk):
    schedule = get_object_or_404(Schedule, pk=pk)
    form = forms.OverrideForm(request.POST or None, schedule=schedule)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            svc.override_create(schedule=schedule, user=d["user"], start=d["start"], end=d["end"], layer=d["layer"],
                                replaces=d["replaces"], reason=d["reason"], by=request.user)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Override added.")
            return redirect(schedule)
    return render(request, "oncall/override_form.html", {"form": form, "schedule": schedule})


@require_POST
def override_delete(request, pk):
    override = get_object_or_404(Override, pk=pk)
    schedule = override.schedule
    svc.override_delete(override=override, by=request.user)
    messages.success(request, "Override removed.")
    return redirect(schedule)


@require_POST
def handoff_note(request, pk):
    schedule = get_object_or_404(Schedule, pk=pk)
    form = forms.HandoffNoteForm(request.POST)
    if form.is_valid():
        try:
            svc.handoff_note_add(schedule=schedule, author=request.user, body=form.cleaned_data["body"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Note saved; it goes to the next person at handoff.")
    else:
        messages.error(request, "Write something for the next person.")
    return redirect(schedule)


def my_shifts(request):
    now = timezone.now()
    shifts = selectors.shifts_for_user(request.user, now, now + timedelta(days=28))
    token = calendars.calendar_for(request.user)
    feed = request.build_absolute_uri(reverse("oncall:ical_user", args=[token.token]))
    return render(request, "oncall/my_shifts.html", {"shifts": shifts, "now": now, "feed_url": feed,
                                                     "webcal_url": "webcal://" + feed.split("://", 1)[1]})


def my_time_zone(request):
    """Choose the zone the portal shows you times in (else your browser's: incidents.viewerzone)
    and your working hours (when low-urgency incidents reach you: oncall.workhours)."""
    profile = Profile.objects.filter(user=request.user).first() or Profile(user=request.user)
    which = request.POST.get("form", "zone") if request.method == "POST" else None
    form = forms.TimeZoneForm(request.POST if which == "zone" else None, initial={"time_zone": profile.time_zone})
    hours_form = forms.WorkingHoursForm(request.POST if which == "hours" else None, initial={
        "working_days": list(profile.working_days), "working_start": profile.working_start, "working_end": profile.working_end})
    if which == "zone" and form.is_valid():
        try:
            people.profile_update(person=request.user, time_zone=form.cleaned_data["time_zone"])
        except DomainError as exc:
            form.add_error("time_zone", str(exc))
        else:
            messages.success(request, f"Times are now shown in {form.cleaned_data['time_zone'] or 'your browser’s zone'}.")
            return redirect("oncall:my_time_zone")
    if which == "hours" and hours_form.is_valid():
        data = hours_form.cleaned_data
        try:
            people.profile_update(person=request.user, working_days="".join(data["working_days"]),
                                  working_start=data["working_start"], working_end=data["working_end"])
        except DomainError as exc:
            hours_form.add_error(exc.field if exc.field in hours_form.fields else None, str(exc))
        else:
            messages.success(request, f"Working hours saved: {workhours.for_person(request.user).describe()}.")
            return redirect("oncall:my_time_zone")
    bad = form.errors or hours_form.errors
    return render(request, "oncall/time_zone.html", {"form": form, "hours_form": hours_form, "hours": workhours.for_person(request.user)},
                  status=400 if bad else 200)


def policy_list(request):
    policies = list(EscalationPolicy.objects.prefetch_related(*selectors.POLICY_TARGETS, "service_links__service"))
    problems = selectors.policy_problems(policies)
    for policy in policies:
        policy.problems = problems[policy.pk]
    return render(request, "oncall/policies.html", {"policies": policies})


def policy_detail(request, pk):
    policy = get_object_or_404(EscalationPolicy.objects.prefetch_related(*selectors.POLICY_TARGETS, "levels__severities", "service_links__service"), pk=pk)
    return render(request, "oncall/policy.html", {
        "policy": policy, "history": audit_history(policy), "problems": selectors.policy_problems([policy])[policy.pk]})


def policy_edit(request, pk=None):
    """Create or edit a policy with its levels (one box a level; add, remove and move levels with
    their buttons, which work without scripts too: see incidents/rows.py)."""
    policy = get_object_or_404(EscalationPolicy, pk=pk) if pk else None
    initial, levels_initial = {}, []
    if policy:
        initial = {"name": policy.name, "description": policy.description, "repeat": policy.repeat,
                   "repeat_after_minutes": forms.minutes(policy.repeat_after_seconds),
                   "services": [link.service_id for link in policy.service_links.all()]}
        levels_initial = forms.level_initial(policy)
    data = request.POST if request.method == "POST" else None
    op = rows.requested_op(data)
    if op:
        data = rows.apply_row_op(data, forms.LevelFormSet, "levels") or data
    form = forms.PolicyForm(data, initial=initial)
    levels = forms.LevelFormSet(data, initial=None if data else levels_initial, prefix="levels",
                                current=forms.current_targets(levels_initial))
    context = {"form": form, "levels": levels, "policy": policy}
    if op:
        rows.quiet(form, levels)
        return render(request, "oncall/policy_form.html", context)
    if data is not None and form.is_valid() and levels.is_valid():
        d = form.cleaned_data
        try:
            saved = policy_svc.policy_save(
                policy=policy, name=d["name"], description=d["description"], repeat=d["repeat"],
                repeat_after_seconds=round(d["repeat_after_minutes"] * 60), services=list(d["services"]),
                levels=levels.specs(), by=request.user)
        except DomainError as exc:
            if exc.field == "levels":
                levels._non_form_errors = levels.error_class([exc.message], error_class="nonform")
            else:
                _form_error(form, exc)
        else:
            messages.success(request, f"Policy “{saved.name}” saved. Running escalations keep the levels they started with.")
            return redirect(saved)
    return render(request, "oncall/policy_form.html", context)


def _incident(request, number: str) -> Incident:
    try:
        return incident_selectors.incident_for(request.user, number=number)
    except Incident.DoesNotExist:
        raise Http404("No such incident") from None


@require_POST
def page(request, number):
    incident = _incident(request, number)
    form = forms.ManualPageForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            with transaction.atomic():
                engine.page_manually(incident=incident, by=request.user, user=d["user"], schedule=d["schedule"], note=d["note"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Paging now.")
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect(incident.get_absolute_url() + "#oncall-escalation")


@require_POST
def schedule_calendar_rotate(request, pk):
    schedule = calendars.schedule_rotate_calendar(schedule=get_object_or_404(Schedule, pk=pk), by=request.user)
    messages.success(request, "New calendar-feed address: the old one no longer works. Subscribe again with the new one.")
    return redirect(schedule)


@require_POST
def my_calendar_rotate(request):
    calendars.calendar_rotate(user=request.user, by=request.user)
    messages.success(request, "New calendar-feed address: the old one no longer works. Subscribe again with the new one.")
    return redirect("oncall:my_shifts")


def escalation_panel(request, number):
    """The incident page's escalation panel alone: static/js/refresh.js swaps it in every few seconds."""
    incident = _incident(request, number)
    return render(request, "oncall/_escalation_panel.html", {"ctx": panels.incident_escalation(request, incident)})


def ical_schedule(request, token):
    schedule = get_object_or_404(Schedule, ical_token=token)
    return HttpResponse(calendar.schedule_feed(schedule), content_type="text/calendar; charset=utf-8")


def ical_user(request, token):
    row = get_object_or_404(CalendarToken.objects.select_related("user"), token=token, user__is_active=True)
    return HttpResponse(calendar.user_feed(row.user), content_type="text/calendar; charset=utf-8")
