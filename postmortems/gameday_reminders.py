"""Game-day reminders, rows of the one delivery layer (purpose `gameday_reminders`): an email to
each participant and the facilitator `GAMEDAY_REMINDERS` ahead of the start (by default a day
and an hour before).

Planned by `plan(game_day)` whenever a game day is created or edited: one row per (game day,
kind, person, start time) under its dedup key, so planning again changes nothing; a start that
moves or a person who leaves cancels the rows the new plan no longer holds, and the same plan
again reopens them. Started or cancelled game days cancel what is pending. At send time the row
is checked again (`cancel_reason`) and composed from the game day as it is then. The task within
the ETA horizon, the sweep beyond it, claims, retries and leases are the delivery layer's."""

from datetime import UTC, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import dateformat, timezone

from delivery import outbox, purposes, safetext
from delivery.channels import Destination
from delivery.messages import Message
from delivery.models import Delivery
from incidents.zones import zone_or_none

from .models import GameDay, GameDayStatus

PURPOSE = "gameday_reminders"
KIND_LABELS = {"day_before": "Game day tomorrow", "hour_before": "Game day in an hour", "starting": "Game day starting"}


def _stamp(game_day: GameDay) -> str:
    return game_day.starts_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _prefix(game_day: GameDay) -> str:
    return f"gd:{game_day.pk}:"


def reminders(**filters):
    return Delivery.objects.filter(purpose=PURPOSE, **filters)


def recipients(game_day: GameDay) -> list:
    people = list(game_day.participants.filter(is_active=True).order_by("pk"))
    if game_day.facilitator is not None and game_day.facilitator.is_active and game_day.facilitator not in people:
        people.append(game_day.facilitator)
    return [p for p in people if p.email]


def _plan_times(game_day: GameDay) -> list[tuple[str, object]]:
    """(kind, due time) of the reminders still ahead; when every lead time has passed but the
    start has not, one "starting" reminder now."""
    now = timezone.now()
    plan = [(kind, game_day.starts_at - timedelta(seconds=seconds)) for kind, seconds in settings.GAMEDAY_REMINDERS]
    ahead = [(kind, when) for kind, when in plan if when > now]
    if not ahead and game_day.starts_at > now:
        ahead = [("starting", now)]
    return ahead


def plan(game_day: GameDay) -> list[Delivery]:
    """Reminders for the game day as it is now; pending ones it no longer holds are cancelled."""
    made, keys = [], []
    if game_day.status == GameDayStatus.PLANNED:
        stamp = _stamp(game_day)
        for person in recipients(game_day):
            for kind, due_at in _plan_times(game_day):
                key = f"{_prefix(game_day)}{kind}:{person.pk}:{stamp}"
                keys.append(key)
                row = outbox.create(
                    purpose=PURPOSE, channel="email", target=person.email, dedup_key=key, destination_id=person.pk, user=person,
                    kind=kind, due_at=due_at,
                    message=Message(kind=kind, title=f"{KIND_LABELS.get(kind, 'Game day')}: {game_day.title}", body="",
                                    context={"game_day": game_day.pk, "starts_at": stamp}),
                )
                rows = [row] if row is not None else outbox.reopen(reminders(dedup_key=key, destination_id=person.pk), due_at=due_at)
                made.extend(rows)
    outbox.cancel(reminders(dedup_key__startswith=_prefix(game_day)).exclude(dedup_key__in=keys),
                  "Replaced: the game day moved, or the person no longer takes part.")
    outbox.enqueue_on_commit(made)
    return made


def cancel(game_day: GameDay, reason: str) -> int:
    return outbox.cancel(reminders(dedup_key__startswith=_prefix(game_day)), reason)


# --- the purpose: checked and composed at send time --------------------------------------------


def _game_day(row: Delivery) -> GameDay | None:
    pk = (row.message or {}).get("context", {}).get("game_day")
    if not isinstance(pk, int):
        return None
    return GameDay.objects.select_related("facilitator", "runbook").filter(pk=pk).first()


def _recipient(row: Delivery):
    return get_user_model().objects.filter(pk=row.destination_id, is_active=True).first()


def cancel_reason(row: Delivery) -> str:
    game_day = _game_day(row)
    if game_day is None:
        return "The game day is gone."
    if game_day.status != GameDayStatus.PLANNED:
        return f"The game day is {game_day.get_status_display().lower()}."
    if (row.message or {}).get("context", {}).get("starts_at") != _stamp(game_day):
        return "The game day moved."
    person = _recipient(row)
    if person is None or person not in recipients(game_day):
        return "No longer taking part in the game day."
    return ""


def destination(row: Delivery) -> Destination | None:
    person = _recipient(row)
    return Destination(target=person.email) if person is not None and person.email else None


def _when(value, zone) -> str:
    return dateformat.format(value.astimezone(zone), "l Y-m-d H:i T")


def compose(row: Delivery) -> Message | None:
    game_day = _game_day(row)
    person = _recipient(row)
    if game_day is None or person is None:
        return None
    zone = zone_or_none(game_day.time_zone) or UTC
    link = game_day.runbook_link
    url = f"{settings.SITE_URL}{game_day.get_absolute_url()}"
    context = {
        "recipient": person.get_full_name() or person.get_username(),
        "game_day": {
            "title": game_day.title, "scenario": game_day.scenario[:4000],
            "starts_at": _when(game_day.starts_at, zone), "ends_at": _when(game_day.ends_at, zone),
            "starts_at_utc": _when(game_day.starts_at, UTC), "time_zone": game_day.time_zone,
            "facilitator": (game_day.facilitator.get_full_name() or game_day.facilitator.get_username()) if game_day.facilitator else "",
            "runbook": safetext.url(f"{settings.SITE_URL}{link}" if link.startswith("/") else link),
        },
        "lead": KIND_LABELS.get(row.kind, "Game day"),
        "url": url,
    }
    return Message(kind=row.kind, title=row.message.get("title", ""), body="", url=url, template="gameday_reminder",
                   context=context, headers={"X-Portal-Reminder": row.dedup_key})


def register() -> None:
    purposes.register(purposes.Purpose(
        name=PURPOSE, label="Game-day reminders", destination=destination, compose=compose, cancel_reason=cancel_reason,
    ))
