"""The migration that carries postmortem reminders over to the delivery layer: a pending
reminder comes back as a `postmortem_reminders` delivery that the layer sends when due; a sent
one keeps its history."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from delivery import outbox
from postmortems import services

from .conftest import reminder_rows

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("back_to_latest_migrations")]

BEFORE = [("postmortems", "0002_seed_templates")]
AFTER = [("postmortems", "0003_reminders_become_deliveries")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_old_reminders_become_deliveries_that_still_go_out(resolved, responder, responder2):
    incident = resolved("P3")
    pm = services.postmortem_create(incident=incident, by=responder, due_at=timezone.now() + timedelta(days=2))
    reminder_rows().delete()  # as before the delivery layer: the plan lived in Reminder rows
    old = _migrate(BEFORE)
    Reminder = old.get_model("postmortems", "Reminder")
    EmailAttempt = old.get_model("postmortems", "EmailAttempt")
    now = timezone.now()
    Reminder.objects.create(key="pm:due", kind="overdue", postmortem_id=pm.pk, recipient_id=responder2.pk, due_at=now, status="pending")
    sent = Reminder.objects.create(key="digest:x", kind="digest", recipient_id=responder.pk, due_at=now - timedelta(days=1),
                                   status="sent", attempts=2, sent_at=now - timedelta(days=1), last_error="")
    EmailAttempt.objects.create(reminder=sent, to=responder.email, subject="1 overdue action item", ok=True)

    _migrate(AFTER)
    due, digest = reminder_rows().order_by("pk")
    assert (due.kind, due.user_id, due.destination_id, due.incident_id, due.status) == ("overdue", responder2.pk, responder2.pk,
                                                                                        incident.pk, "pending")
    assert (digest.kind, digest.status, digest.attempts, digest.incident_id) == ("digest", "sent", 2, None)
    assert due.title == f"Postmortem overdue: {incident.number}"

    outbox.deliver(due.pk)
    due.refresh_from_db()
    assert due.status == "sent", due.error
    [message] = mail.outbox
    assert message.to == [responder2.email] and message.subject.startswith(f"Postmortem overdue: {incident.number}")
