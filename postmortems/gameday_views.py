"""Staff pages for game days: the calendar (upcoming and past), a game day, planning and editing
it, starting it (declares its drill), recording its results, cancelling it; and its iCalendar
feed behind a personal secret token. Views read through `gamedays` selectors and change state
only through its services."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from incidents.audit import audit_history
from incidents.exceptions import DomainError
from incidents.markdown import render_markdown

from . import forms, gameday_calendar, gamedays
from .models import GameDay, GameDayFeedToken, GameDayStatus

CHANGE = "postmortems.change_gameday"


def _game_day(request, public_id) -> GameDay:
    return get_object_or_404(gamedays.game_day_queryset(request.user), public_id=public_id)


def _form_error(form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _feed_urls(request) -> dict:
    token = gamedays.feed_token_for(request.user)
    feed = request.build_absolute_uri(reverse("postmortems:game_day_feed", args=[token.token]))
    return {"feed_url": feed, "webcal_url": "webcal://" + feed.split("://", 1)[1]}


def game_day_list(request):
    when = "past" if request.GET.get("when") == "past" else "upcoming"
    game_days = list(gamedays.game_day_list(request.user, when=when)[:200])
    return render(request, "postmortems/game_days/list.html", {
        "game_days": game_days, "when": when, "now": timezone.now(), **_feed_urls(request),
        "can_plan": request.user.has_perm("postmortems.add_gameday"),
    })


def game_day_new(request):
    form = forms.GameDayForm(request.POST or None, initial={"time_zone": timezone.get_current_timezone_name()})
    if request.method == "POST" and form.is_valid():
        try:
            game_day = gamedays.game_day_create(by=request.user, **form.cleaned_data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Game day planned: its participants get reminders before the start.")
            return redirect(game_day.get_absolute_url())
    return render(request, "postmortems/game_days/form.html", {"form": form, "game_day": None}, status=400 if form.errors else 200)


def game_day_detail(request, public_id):
    game_day = _game_day(request, public_id)
    can_change = request.user.has_perm(CHANGE)
    return render(request, "postmortems/game_days/detail.html", {
        "game_day": game_day, "scenario_html": render_markdown(game_day.scenario), "learnt_html": render_markdown(game_day.learnt),
        "drills": list(game_day.incidents.all()), "items": list(gamedays.game_day_action_items(game_day)),
        "can_change": can_change, "can_start": can_change and request.user.has_perm("incidents.add_incident")
        and game_day.status in (GameDayStatus.PLANNED, GameDayStatus.RUNNING),
        "cancel_form": forms.GameDayCancelForm(), "history": audit_history(game_day),
        "today": timezone.localdate(),
    })


def game_day_edit(request, public_id):
    game_day = _game_day(request, public_id)
    if not game_day.is_editable:
        messages.error(request, f"A {game_day.get_status_display().lower()} game day cannot be edited.")
        return redirect(game_day.get_absolute_url())
    form = forms.GameDayForm(request.POST or None, initial=forms.GameDayForm.initial_for(game_day))
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        if {"starts_at", "ends_at", "time_zone"} & set(changes):  # one zone for the pair: send both
            changes.update(starts_at=form.cleaned_data["starts_at"], ends_at=form.cleaned_data["ends_at"])
        try:
            gamedays.game_day_update(game_day=game_day, by=request.user, **changes)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Game day saved; reminders follow the new plan.")
            return redirect(game_day.get_absolute_url())
    return render(request, "postmortems/game_days/form.html", {"form": form, "game_day": game_day}, status=400 if form.errors else 200)


@require_POST
def game_day_start(request, public_id):
    game_day = _game_day(request, public_id)
    try:
        incident = gamedays.game_day_start(game_day=game_day, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(game_day.get_absolute_url())
    messages.success(request, f"Drill {incident.number} declared: it pages for real, every message marked [DRILL].")
    return redirect(incident.get_absolute_url())


def game_day_results(request, public_id):
    game_day = _game_day(request, public_id)
    initial = {"outcome": game_day.outcome, "learnt": game_day.learnt}
    form = forms.GameDayResultsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            gamedays.game_day_record_results(game_day=game_day, by=request.user, learnt=data["learnt"], outcome=data["outcome"],
                                             action_items=data["action_items"])
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Results recorded.")
            return redirect(game_day.get_absolute_url())
    return render(request, "postmortems/game_days/results.html", {"form": form, "game_day": game_day},
                  status=400 if form.errors else 200)


@require_POST
def game_day_cancel(request, public_id):
    game_day = _game_day(request, public_id)
    form = forms.GameDayCancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The reason is too long (500 characters at most).")
        return redirect(game_day.get_absolute_url())
    try:
        gamedays.game_day_cancel(game_day=game_day, by=request.user, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Game day cancelled; its pending reminders are cancelled too.")
    return redirect(game_day.get_absolute_url())


@require_POST
def game_day_feed_rotate(request):
    gamedays.feed_token_rotate(user=request.user, by=request.user)
    messages.success(request, "New game-day calendar address: the old one no longer works. Subscribe again with the new one.")
    return redirect("postmortems:game_days")


def game_day_feed(request, token):
    row = GameDayFeedToken.objects.select_related("user").filter(token=token[:64], user__is_active=True).first()
    if row is None or not row.user.has_perm("postmortems.view_gameday"):
        raise Http404("No such calendar")
    return HttpResponse(gameday_calendar.game_days_feed(), content_type="text/calendar; charset=utf-8")
