"""Every reader of "who is on call" gives the same answer at the instants where two readings
of a restriction window used to disagree: the pager's lookup, the API, the shifts behind the
schedule page and the iCal feeds, and the policy check."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from oncall import selectors
from oncall.models import EscalationPolicy, TargetKind
from oncall.services.schedules import LayerSpec, RestrictionSpec, schedule_create

from .conftest import Condition, make_policy

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")


def at(*args, fold=0):
    return datetime(*args, tzinfo=NY, fold=fold).astimezone(UTC)


def _schedule(name, window, responder, responder2=None):
    layers = [LayerSpec(name="Primary", starts_on=date(2026, 1, 5), participants=[(responder, 1)], handoff_time=time(9),
                        restrictions=[window])]
    if responder2 is not None:
        layers.append(LayerSpec(name="Backup", starts_on=date(2026, 1, 5), participants=[(responder2, 1)], handoff_time=time(9)))
    return schedule_create(name=name, time_zone="America/New_York", layers=layers)


CASES = [  # (window, instant, primary on call?)
    (RestrictionSpec([0, 1, 2, 3, 4], time(8), time(8)), at(2026, 1, 12, 7), False),  # Monday 07:00: no Sunday window
    (RestrictionSpec([0, 1, 2, 3, 4], time(8), time(8)), at(2026, 1, 17, 7, 59), True),  # Saturday: Friday's window
    (RestrictionSpec(list(range(7)), time(2, 30), time(6)), at(2026, 3, 8, 3, 15), True),  # opens at the gap's end
    (RestrictionSpec([5], time(22), time(1, 30)), at(2026, 11, 1, 1, 15, fold=1), False),  # ended at the first 01:30
]


@pytest.mark.parametrize("window, instant, primary_on", CASES)
def test_pager_api_shifts_and_policy_check_agree(admin_api, responder, responder2, window, instant, primary_on):
    both = _schedule("Both", window, responder, responder2)
    alone = _schedule("Alone", window, responder)
    expect = responder if primary_on else responder2
    assert selectors.oncall_at([both.pk], instant)[both.pk] == expect.pk  # the pager's lookup
    shifts = selectors.schedule_shifts(both, instant - timedelta(days=1), instant + timedelta(days=1))  # page, iCal
    assert next(u for a, b, u in shifts if a <= instant < b) == expect
    api = admin_api.get(f"/api/v1/schedules/{both.pk}/oncall/", {"at": instant.isoformat()}).data
    assert api["user"]["username"] == expect.username
    assert (api["layers"][0]["user"] is not None) == primary_on
    listed = admin_api.get(f"/api/v1/schedules/{both.pk}/shifts/", {"start": (instant - timedelta(hours=3)).isoformat(),
                                                                      "end": (instant + timedelta(hours=3)).isoformat()}).data
    assert next(s["user"]["username"] for s in listed["shifts"] if s["start"] <= instant < s["end"]) == expect.username
    policy = make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.SCHEDULE, alone)])], name="Alone only")
    problems = selectors.policy_problems(EscalationPolicy.objects.filter(pk=policy.pk).prefetch_related(*selectors.POLICY_TARGETS),
                                         at=instant)[policy.pk]
    assert (problems == []) == primary_on
    assert selectors.oncall_at([alone.pk], instant)[alone.pk] == (responder.pk if primary_on else None)
