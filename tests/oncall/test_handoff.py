"""Handoff reports: planned as rows with a due time, sent once to the incoming person with
open incidents, the last shift's incidents and the outgoing person's notes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from delivery.models import Delivery
from oncall import selectors
from oncall.models import Handoff, HandoffStatus
from oncall.notifications.services import contact_method_create
from oncall.services import handoff as svc
from oncall.services.schedules import handoff_note_add, override_create
from tests.incidents.factories import declare

from .conftest import make_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def daily(people):
    for user in people.values():
        contact_method_create(user=user, kind="email", target=user.email)
    return make_schedule("Daily", [people["alice"], people["bob"]], rotation="daily")


def test_plan_writes_one_row_per_change_and_planning_twice_is_harmless(daily, people):
    assert svc.handoffs_plan() == 1
    svc.handoffs_plan()
    handoff = Handoff.objects.get()
    assert handoff.status == HandoffStatus.PENDING
    assert handoff.due_at.astimezone(timezone.get_fixed_timezone(0)).hour == 9
    assert {handoff.incoming, handoff.outgoing} == {people["alice"], people["bob"]}


def test_report_goes_to_the_incoming_person_once_with_incidents_and_notes(daily, people):
    svc.handoffs_plan()
    handoff = Handoff.objects.get()
    handoff_note_add(schedule=daily, author=handoff.outgoing, body="Disk on db-2 is at 85%")
    incident = declare(title="Queue backlog", severity="P2")
    assert svc.handoff_send(handoff_id=handoff.pk) is False  # not due yet
    assert svc.handoff_send(handoff_id=handoff.pk, now=handoff.due_at + timedelta(seconds=1)) is True
    assert svc.handoff_send(handoff_id=handoff.pk, now=handoff.due_at + timedelta(seconds=2)) is False
    row = Delivery.objects.get(dedup_key=f"handoff:{handoff.pk}")
    assert row.user == handoff.incoming
    body = row.message["body"]
    assert incident.number in body and "Disk on db-2 is at 85%" in body
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.SENT and handoff.notes.count() == 1


def test_handoff_cancelled_when_the_rules_changed(daily, people):
    svc.handoffs_plan()
    handoff = Handoff.objects.get()
    override_create(schedule=daily, user=people["carol"], start=handoff.due_at - timedelta(hours=1), end=handoff.due_at + timedelta(hours=5))
    assert svc.handoff_send(handoff_id=handoff.pk, now=handoff.due_at) is False
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.CANCELLED


def test_sweep_sends_overdue_handoffs(daily):
    svc.handoffs_plan()
    Handoff.objects.update(due_at=timezone.now() - timedelta(minutes=1))
    # The planned incoming person must still be on call at the (moved) due time for it to go out.
    handoff = Handoff.objects.get()
    handoff.incoming_id = selectors.oncall_at([handoff.schedule_id], handoff.due_at)[handoff.schedule_id]
    handoff.save()
    assert svc.sweep() == 1
    assert svc.sweep() == 0
