"""The paths that matter, through a real Celery worker on the configured broker (Redis in CI):
resolution opens the postmortem, reminders go out by their ETA, the digest goes out once."""

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from postmortems import services
from postmortems.models import ActionItem, Postmortem
from postmortems.tasks import action_item_digest_task
from tests.conftest import wait_for

from .conftest import reminder_rows

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]




def test_resolution_opens_the_postmortem_through_the_worker(celery_worker, resolved, responder2):
    incident = resolved("P1")
    assert wait_for(lambda: Postmortem.objects.filter(incident=incident).exists()), "the worker never opened the postmortem"
    pm = Postmortem.objects.get(incident=incident)
    assert pm.owner == responder2 and pm.automatic
    assert pm.due_at == incident.resolved_at + timedelta(hours=48)
    assert wait_for(lambda: incident.timeline.filter(kind="resolved", dispatched_at__isnull=False).exists())
    assert Postmortem.objects.filter(incident=incident).count() == 1


def test_reminders_go_out_by_eta_through_the_worker(celery_worker, resolved, responder, responder2):
    incident = resolved("P3")
    services.postmortem_create(incident=incident, by=responder, due_at=timezone.now() + timedelta(seconds=3))
    assert wait_for(lambda: set(reminder_rows(incident=incident).values_list("status", flat=True)) == {"sent"}), \
        list(reminder_rows().values("kind", "status", "error"))
    assert reminder_rows(incident=incident).count() == 2
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects[0].startswith("Postmortem due") and subjects[1].startswith("Postmortem overdue")
    assert {m.to[0] for m in mail.outbox} == {responder2.email}


def test_review_invitations_and_digest_through_the_worker(celery_worker, resolved, responder, responder2, viewer, settings):
    settings.POSTMORTEM_DIGEST_HOUR = 0
    incident = resolved("P3")
    pm = services.postmortem_create(incident=incident, by=responder, due_at=timezone.now() + timedelta(days=3),
                                    reviewers=[viewer])
    services.postmortem_update(postmortem=pm, by=responder, review_meeting_at=timezone.now() + timedelta(days=1))
    services.postmortem_submit_for_review(postmortem=pm, by=responder)
    assert wait_for(lambda: reminder_rows(kind="review_invite", status="sent").count() == 1)
    item = services.action_item_create(incident=incident, title="Alert on expiry", owner=responder2, due_date=timezone.localdate(), by=responder)
    ActionItem.objects.filter(pk=item.pk).update(due_date=timezone.localdate() - timedelta(days=1))
    action_item_digest_task.delay()
    action_item_digest_task.delay()  # twice: still one digest
    assert wait_for(lambda: reminder_rows(kind="digest", status="sent").count() == 1)
    time.sleep(0.5)
    digests = [m for m in mail.outbox if "overdue action item" in m.subject]
    assert len(digests) == 1 and digests[0].to == [responder2.email] and "Alert on expiry" in digests[0].body
    invites = [m for m in mail.outbox if m.subject.startswith("Postmortem review")]
    assert len(invites) == 1 and invites[0].to == [viewer.email] and invites[0].attachments[0][0] == "invite.ics"
