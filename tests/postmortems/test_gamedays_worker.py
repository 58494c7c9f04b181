"""Game-day reminders through a real Celery worker on the configured broker: due rows go out by
their ETA to every participant; a moved or cancelled game day's old reminders never do."""

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from delivery.models import Delivery
from postmortems import gamedays
from postmortems.gameday_reminders import PURPOSE
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def rows(**filters):
    return Delivery.objects.filter(purpose=PURPOSE, **filters)


def test_the_hour_before_reminder_reaches_every_participant_through_the_worker(celery_worker, responder, responder2, viewer):
    start = timezone.now() + timedelta(hours=1, seconds=3)
    game_day = gamedays.game_day_create(
        title="Failover game day", scenario="Primary down", starts_at=start, ends_at=start + timedelta(hours=1),
        time_zone="Asia/Kolkata", facilitator=responder, participants=[responder2, viewer], by=responder)
    assert set(rows().values_list("kind", flat=True)) == {"hour_before"}  # the day-before time has passed
    assert wait_for(lambda: rows(status="sent").count() == 3), list(rows().values("kind", "status", "error"))
    time.sleep(0.3)
    mine = [m for m in mail.outbox if "Failover game day" in m.subject]
    assert sorted(m.to[0] for m in mine) == sorted([responder.email, responder2.email, viewer.email])
    assert all(m.subject.startswith("Game day in an hour") for m in mine)
    assert "IST" in mine[0].body and game_day.get_absolute_url() in mine[0].body


def test_a_moved_or_cancelled_game_day_sends_nothing_old(celery_worker, responder, viewer):
    start = timezone.now() + timedelta(hours=1, seconds=2)
    moved = gamedays.game_day_create(title="Moved day", scenario="x", starts_at=start, ends_at=start + timedelta(hours=1),
                                     participants=[viewer], by=responder)
    cancelled = gamedays.game_day_create(title="Cancelled day", scenario="x", starts_at=start, ends_at=start + timedelta(hours=1),
                                         participants=[viewer], by=responder)
    later = start + timedelta(days=2)
    gamedays.game_day_update(game_day=moved, by=responder, starts_at=later, ends_at=later + timedelta(hours=1))
    gamedays.game_day_cancel(game_day=cancelled, by=responder)
    time.sleep(4)  # past the old due time: the worker had every chance
    assert not rows(status="sent").exists()
    assert not [m for m in mail.outbox if "Moved day" in m.subject or "Cancelled day" in m.subject]
    new = rows(status="pending").get(kind="hour_before")
    assert new.due_at == later - timedelta(hours=1)
