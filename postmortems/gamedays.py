"""Game days: every state change, one function per verb, and the read paths.

A game day is planned (title, scenario, when and in which zone, runbook, facilitator,
participants), started (which declares its drill incident through `incidents.services`: pages for
real, every message marked [DRILL], never public, out of the metrics), and closed by recording
its results (what was learnt, the outcome, action items on its drill) or cancelled. Each change
writes an audit entry (who, when), and reminders to the participants are planned as delivery
rows (`postmortems.gameday_reminders`), moved or cancelled with the game day."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from delivery import safetext
from incidents import selectors as incident_selectors
from incidents.audit import audit_record
from incidents.exceptions import InvalidInput, InvalidTransition
from incidents.integrations.models import Runbook
from incidents.model_update import model_update
from incidents.models import Incident, IncidentType, Severity
from incidents.services import incident_add_note, incident_add_responder, incident_declare
from incidents.zones import check_zone

from . import gameday_reminders
from . import services as pm_services
from .models import ActionCategory, ActionItem, GameDay, GameDayFeedToken, GameDayOutcome, GameDayStatus, new_feed_token

User = get_user_model()

EDITABLE = ("title", "scenario", "starts_at", "ends_at", "time_zone", "runbook", "runbook_url", "severity", "facilitator",
            "participants")
RESULT_FIELDS = ("learnt", "outcome")


def _by(user):
    return user if (user is not None and user.is_authenticated) else None


def _name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else "nobody"


def _locked(game_day: GameDay) -> GameDay:
    return GameDay.objects.select_for_update().get(pk=game_day.pk)


def _check(data: dict) -> dict:
    """The rules every entry point shares; returns the cleaned values."""
    out = dict(data)
    if "title" in out:
        out["title"] = safetext.line(out["title"] or "", 200).strip()
        if not out["title"]:
            raise InvalidInput("A title is required.", field="title")
    if "scenario" in out:
        out["scenario"] = (out["scenario"] or "").strip()
        if not out["scenario"]:
            raise InvalidInput("Describe the scenario.", field="scenario")
    if "time_zone" in out:
        check_zone(out["time_zone"])
    if "runbook_url" in out:
        raw = (out["runbook_url"] or "").strip()
        if raw and not safetext.url(raw):
            raise InvalidInput("The runbook link must be an http or https address.", field="runbook_url")
        out["runbook_url"] = raw
    if out.get("facilitator") is not None and not out["facilitator"].is_active:
        raise InvalidInput(f"{_name(out['facilitator'])} is not an active user; choose someone else.", field="facilitator")
    if "participants" in out:
        people = list(out["participants"] or ())
        inactive = [p for p in people if not p.is_active]
        if inactive:
            raise InvalidInput(f"{_name(inactive[0])} is not an active user; choose someone else.", field="participants")
        out["participants"] = people
    if out.get("severity") is not None and not out["severity"].is_active:
        raise InvalidInput(f"Severity {out['severity'].key} is not active.", field="severity")
    return out


def _check_times(starts_at: datetime, ends_at: datetime) -> None:
    if starts_at is None:
        raise InvalidInput("Give the start.", field="starts_at")
    if ends_at is None:
        raise InvalidInput("Give the end.", field="ends_at")
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise InvalidInput("Give the start and end with their time zone.", field="starts_at")
    if ends_at <= starts_at:
        raise InvalidInput("The end must be after the start.", field="ends_at")


@transaction.atomic
def game_day_create(
    *, title: str, scenario: str, starts_at: datetime, ends_at: datetime, by=None, time_zone: str = "Etc/UTC",
    runbook: Runbook | None = None, runbook_url: str = "", severity: Severity | None = None, facilitator=None,
    participants: Iterable = (),
) -> GameDay:
    data = _check({"title": title, "scenario": scenario, "time_zone": time_zone, "runbook_url": runbook_url,
                   "facilitator": facilitator, "participants": participants, "severity": severity})
    _check_times(starts_at, ends_at)
    if starts_at <= timezone.now():
        raise InvalidInput("A game day is planned ahead: the start must be in the future.", field="starts_at")
    game_day = GameDay(
        title=data["title"], scenario=data["scenario"], starts_at=starts_at, ends_at=ends_at, time_zone=time_zone,
        runbook=runbook, runbook_url=data["runbook_url"], severity=severity, facilitator=facilitator, created_by=_by(by),
    )
    game_day.full_clean()
    game_day.save()
    game_day.participants.set(data["participants"])
    audit_record(by=by, obj=game_day, action="added", message=f"Planned the game day for {starts_at.isoformat()}.")
    gameday_reminders.plan(game_day)
    return game_day


@transaction.atomic
def game_day_update(*, game_day: GameDay, by=None, **changes) -> GameDay:
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    game_day = _locked(game_day)
    if not game_day.is_editable:
        raise InvalidTransition(f"A {game_day.get_status_display().lower()} game day cannot be edited; record its results instead.")
    data = _check(changes)
    starts_at = data.get("starts_at", game_day.starts_at)
    ends_at = data.get("ends_at", game_day.ends_at)
    _check_times(starts_at, ends_at)
    if "starts_at" in data and starts_at != game_day.starts_at and game_day.status == GameDayStatus.RUNNING:
        raise InvalidInput("The game day is running: its start cannot move.", field="starts_at")
    if "starts_at" in data and starts_at != game_day.starts_at and starts_at <= timezone.now():
        raise InvalidInput("Move the game day to a time in the future.", field="starts_at")
    changed = model_update(instance=game_day, fields=EDITABLE, data=data)
    if changed:
        audit_record(by=by, obj=game_day, action="changed", message=changed.describe())
        gameday_reminders.plan(game_day)
    return game_day


def _drill_type() -> IncidentType:
    drill = IncidentType.objects.filter(is_drill=True, is_active=True).order_by("position", "pk").first()
    if drill is None:
        raise InvalidInput("No active drill incident type: add one (with “is drill”) before starting a game day.", field="type")
    return drill


@transaction.atomic
def game_day_start(*, game_day: GameDay, by=None, title: str = "") -> Incident:
    """Running: declares the drill incident (the facilitator as commander, the participants as
    responders), linked to the game day. Starting a running game day again runs one more drill."""
    game_day = _locked(game_day)
    if game_day.status not in (GameDayStatus.PLANNED, GameDayStatus.RUNNING):
        raise InvalidTransition(f"A {game_day.get_status_display().lower()} game day cannot be started.")
    drill = _drill_type()
    commander = game_day.facilitator if game_day.facilitator is not None and game_day.facilitator.is_active else None
    incident = incident_declare(
        title=safetext.line(title or f"Game day: {game_day.title}", 200), severity=game_day.severity, by=by, incident_type=drill,
        summary=game_day.scenario[:5000], commander=commander, data={"game_day": str(game_day.public_id)},
    )
    for person in game_day.participants.filter(is_active=True).order_by("pk"):
        if person != commander:
            incident_add_responder(incident=incident, user=person, by=by)
    game_day.incidents.add(incident)
    now = timezone.now()
    first = game_day.status == GameDayStatus.PLANNED
    GameDay.objects.filter(pk=game_day.pk).update(
        status=GameDayStatus.RUNNING, started_at=game_day.started_at or now, started_by=game_day.started_by or _by(by), updated_at=now)
    game_day.refresh_from_db()
    audit_record(by=by, obj=game_day, action="changed",
                 message=f"{'Started' if first else 'Ran one more drill during'} the game day: {incident.number}.")
    gameday_reminders.cancel(game_day, "The game day has started.")
    return incident


@dataclass(frozen=True)
class NewActionItem:
    title: str
    owner: object = None
    due_date: date | None = None
    category: str = ActionCategory.RESPONSE


@transaction.atomic
def game_day_record_results(
    *, game_day: GameDay, by=None, learnt: str = "", outcome: str = "", action_items: Iterable[NewActionItem] = (),
) -> GameDay:
    """Done: what was learnt, the outcome and action items (made on the game day's latest drill,
    so they are tracked with every other action item). Recording again corrects the results."""
    game_day = _locked(game_day)
    if not game_day.can_transition_to(GameDayStatus.DONE):
        raise InvalidTransition(f"A {game_day.get_status_display().lower()} game day has no results to record; start it first.")
    learnt = (learnt or "").strip()
    if not learnt:
        raise InvalidInput("Write down what was learnt.", field="learnt")
    if outcome not in GameDayOutcome.values:
        raise InvalidInput("Choose the outcome.", field="outcome")
    items = list(action_items)
    drill = game_day.incidents.order_by("-declared_at", "-pk").first()
    if items and drill is None:
        raise InvalidInput("Action items go on the game day's drill, and it has none.", field="action_items")
    for item in items:
        pm_services.action_item_create(incident=drill, title=item.title, by=by, owner=item.owner, due_date=item.due_date,
                                       category=item.category, description=f"From the game day “{game_day.title}”.")
    first = game_day.status != GameDayStatus.DONE
    now = timezone.now()
    GameDay.objects.filter(pk=game_day.pk).update(
        status=GameDayStatus.DONE, learnt=learnt, outcome=outcome, completed_at=game_day.completed_at or now, updated_at=now)
    game_day.refresh_from_db()
    audit_record(by=by, obj=game_day, action="changed",
                 message=f"{'Recorded' if first else 'Corrected'} the results ({game_day.get_outcome_display()}); "
                         f"{len(items)} action item{'s' if len(items) != 1 else ''} added.")
    if first:
        for incident in game_day.incidents.all():
            incident_add_note(incident=incident, body=f"Game day “{game_day.title}” results recorded: {game_day.get_outcome_display()}.",
                              by=by)
    return game_day


@transaction.atomic
def game_day_cancel(*, game_day: GameDay, by=None, reason: str = "") -> GameDay:
    game_day = _locked(game_day)
    if not game_day.can_transition_to(GameDayStatus.CANCELLED):
        raise InvalidTransition(f"A {game_day.get_status_display().lower()} game day cannot be cancelled.")
    reason = safetext.line(reason or "", 500).strip()
    now = timezone.now()
    GameDay.objects.filter(pk=game_day.pk).update(status=GameDayStatus.CANCELLED, cancelled_at=now, cancel_reason=reason, updated_at=now)
    game_day.refresh_from_db()
    audit_record(by=by, obj=game_day, action="changed", message=f"Cancelled the game day{': ' + reason if reason else ''}.")
    gameday_reminders.cancel(game_day, "The game day was cancelled.")
    return game_day


# --- calendar-feed tokens ----------------------------------------------------------------------


def feed_token_for(user) -> GameDayFeedToken:
    token, _ = GameDayFeedToken.objects.get_or_create(user=user)
    return token


@transaction.atomic
def feed_token_rotate(*, user, by) -> GameDayFeedToken:
    token = feed_token_for(user)
    GameDayFeedToken.objects.filter(pk=token.pk).update(token=new_feed_token())
    token.refresh_from_db(fields=["token"])
    audit_record(by=by, obj=token, action="changed", message="Rotated the game-day calendar address; the old one no longer works.")
    return token


# --- read paths ---------------------------------------------------------------------------------


def game_day_queryset(viewer=None) -> QuerySet:
    """Game days with what their pages show, in a constant number of queries. Their drills are
    the ones the viewer may see (a restricted drill stays hidden from outsiders)."""
    drills = incident_selectors.incident_queryset().visible_to(viewer).select_related("type") if viewer is not None else Incident.objects.all()
    return GameDay.objects.select_related("facilitator", "runbook", "severity").prefetch_related(
        "participants", Prefetch("incidents", queryset=drills.order_by("declared_at", "pk")))


def game_day_list(viewer, *, when: str = "upcoming") -> QuerySet:
    qs = game_day_queryset(viewer)
    now = timezone.now()
    if when == "past":
        return qs.filter(Q(ends_at__lte=now) | Q(status__in=[GameDayStatus.DONE, GameDayStatus.CANCELLED])).order_by("-starts_at", "-pk")
    return qs.filter(ends_at__gt=now, status__in=[GameDayStatus.PLANNED, GameDayStatus.RUNNING]).order_by("starts_at", "pk")


def game_day_action_items(game_day: GameDay) -> QuerySet:
    return ActionItem.objects.filter(incident__in=game_day.incidents.all()).select_related("owner", "incident").order_by("pk")
