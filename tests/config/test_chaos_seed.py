"""`make chaos` seeds its on-call person so that they are on call whatever the weekday of the run
(a weekly layer's turns start at its first handoff on or after `starts_on`: a seed starting
"yesterday" with a Monday handoff had nobody on call from Tuesday to Sunday, and every run on
those days lost the schedule's pages)."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.db import transaction

from bench.chaos import portal_side
from oncall import selectors
from oncall.models import Schedule

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("day", range(7))
def test_the_seeded_person_is_on_call_on_every_weekday(settings, day):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    now = datetime(2026, 11, 30, 1, 5, tzinfo=UTC) + timedelta(days=day)  # Monday 30 November, then each day
    with mock.patch("django.utils.timezone.now", return_value=now), transaction.atomic():
        seeded = portal_side.seed("http://127.0.0.1:9/receiver")
        schedule = Schedule.objects.get(name="Chaos primary")
        on_call = selectors.oncall_at([schedule.pk], now)[schedule.pk]
        assert on_call is not None and on_call == schedule.layers.get().memberships.get().members.get().user_id
        assert seeded["people"] == ["oncall", "lead"]
        transaction.set_rollback(True)
