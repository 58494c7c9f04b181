"""Reminders as rows of the one delivery layer: planned once, claimed once, composed and sent by
email (text + HTML) when due, retried with the layer's backoff, cancelled when they no longer
matter."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone
from icalendar import Calendar

from delivery import outbox
from incidents.models import Incident
from postmortems import services
from postmortems.models import ActionItem
from postmortems.tasks import action_item_digest_task

from .conftest import fill_required, make_due, reminder_rows, send_due

pytestmark = pytest.mark.django_db


class FailingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP server unreachable")


def test_creation_schedules_due_soon_and_overdue_for_the_owner(postmortem, settings):
    reminders = {r.kind: r for r in reminder_rows(incident=postmortem.incident)}
    assert set(reminders) == {"due_soon", "overdue"}
    assert reminders["due_soon"].due_at == postmortem.due_at - settings.POSTMORTEM_REMINDER_BEFORE
    assert reminders["overdue"].due_at == postmortem.due_at
    assert {r.user for r in reminders.values()} == {postmortem.owner}
    assert {r.destination_id for r in reminders.values()} == {postmortem.owner_id}
    assert {r.channel for r in reminders.values()} == {"email"}


def test_changing_due_date_or_owner_replaces_pending_reminders(postmortem, responder, outsider):
    old = set(reminder_rows(incident=postmortem.incident).values_list("pk", flat=True))
    new_due = timezone.now() + timedelta(days=5)
    services.postmortem_update(postmortem=postmortem, by=responder, due_at=new_due, owner=outsider)
    assert set(reminder_rows(pk__in=old).values_list("status", flat=True)) == {"cancelled"}
    live = reminder_rows(incident=postmortem.incident, status="pending")
    assert {(r.kind, r.user_id, r.due_at) for r in live} == {("overdue", outsider.pk, new_due), ("due_soon", outsider.pk, new_due - timedelta(hours=24))}


def test_reminder_is_sent_once_with_text_and_html(postmortem):
    reminder = reminder_rows(incident=postmortem.incident, kind="due_soon").get()
    make_due(reminder)
    outbox.deliver(reminder.pk)
    outbox.deliver(reminder.pk)  # a duplicate of the ETA message
    assert send_due() == 0  # and the sweep finds nothing left
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [postmortem.owner.email]
    assert postmortem.incident.number in message.subject and "due" in message.subject.lower()
    assert f"/postmortems/{postmortem.incident.number}/" in message.body
    assert message.alternatives[0].mimetype == "text/html" and "<a href=" in message.alternatives[0].content
    assert message.extra_headers["X-Portal-Reminder"] == reminder.dedup_key
    reminder.refresh_from_db()
    assert reminder.status == "sent" and reminder.attempts == 1 and reminder.sent_at is not None


def test_claim_twice_only_one_wins(postmortem):
    reminder = reminder_rows(incident=postmortem.incident, kind="overdue").get()
    assert outbox.claim(reminder.pk).row is None  # not due yet
    make_due(reminder)
    assert outbox.claim(reminder.pk).row is not None
    assert outbox.claim(reminder.pk).row is None
    assert outbox.sweep(paging=False) == 0


def test_sweep_sends_what_the_fast_path_missed(postmortem):
    reminders = list(reminder_rows(incident=postmortem.incident))
    make_due(*reminders)
    outbox.sweep(paging=False, now=timezone.now() + timedelta(seconds=5))
    assert set(reminder_rows(incident=postmortem.incident).values_list("status", flat=True)) == {"sent"}
    assert send_due() == 0
    subjects = sorted(m.subject for m in mail.outbox)
    number = postmortem.incident.number
    assert subjects[0].startswith(f"Postmortem due {postmortem.due_at:%Y-%m-%d %H:%M}: {number}")
    assert subjects[1].startswith(f"Postmortem overdue: {number}")


def test_published_postmortem_gets_no_more_reminders(postmortem, responder):
    fill_required(postmortem, responder)
    services.postmortem_submit_for_review(postmortem=postmortem, by=responder)
    services.postmortem_publish(postmortem=postmortem, by=responder)
    assert set(reminder_rows(incident=postmortem.incident).values_list("status", flat=True)) == {"cancelled"}
    # A row still pending when the postmortem is published (a race) is cancelled when claimed.
    reminder_rows(incident=postmortem.incident).update(status="pending", due_at=timezone.now() - timedelta(seconds=1))
    send_due()
    assert mail.outbox == []
    assert set(reminder_rows(incident=postmortem.incident).values_list("error", flat=True)) == {"The postmortem was published."}


def test_failed_send_is_recorded_and_retried_with_backoff(postmortem, settings):
    settings.EMAIL_BACKEND = "tests.postmortems.test_reminders.FailingBackend"
    reminder = reminder_rows(incident=postmortem.incident, kind="overdue").get()
    reminder_rows(pk=reminder.pk).update(max_attempts=2)
    make_due(reminder)
    send_due()
    reminder.refresh_from_db()
    assert reminder.status == "pending" and reminder.attempts == 1 and "unreachable" in reminder.error
    assert reminder.due_at > timezone.now() + timedelta(seconds=20)  # backoff
    make_due(reminder)
    send_due()
    reminder.refresh_from_db()
    assert reminder.status == "failed" and reminder.attempts == 2


def test_stale_sending_claim_is_retried(postmortem):
    reminder = reminder_rows(incident=postmortem.incident, kind="overdue").get()
    reminder_rows(pk=reminder.pk).update(status="sending", claimed_at=timezone.now() - timedelta(hours=1),
                                         due_at=timezone.now() - timedelta(hours=1))
    outbox.sweep(paging=False)  # the lease is over: pending again, due now
    reminder.refresh_from_db()
    assert reminder.status == "pending" and reminder.due_at <= timezone.now()
    outbox.sweep(paging=False, now=timezone.now() + timedelta(seconds=5))  # the next sweep sends it
    reminder.refresh_from_db()
    assert reminder.status == "sent"


def test_review_invitation_goes_to_each_reviewer_with_an_ics(postmortem, responder, responder2, viewer):
    meeting = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    services.postmortem_update(postmortem=postmortem, by=responder, reviewers=[responder2, viewer], review_meeting_at=meeting,
                               review_meeting_place="Room 4")
    assert not reminder_rows(kind="review_invite").exists()  # drafts invite nobody yet
    services.postmortem_submit_for_review(postmortem=postmortem, by=responder)
    invites = reminder_rows(kind="review_invite")
    assert {r.user for r in invites} == {responder2, viewer}
    assert {r.incident_id for r in invites} == {postmortem.incident_id}  # shown with the incident's deliveries
    send_due()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([responder2.email, viewer.email])
    message = mail.outbox[0]
    name, content, mimetype = message.attachments[0]
    assert name == "invite.ics" and mimetype.startswith("text/calendar")
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == meeting
    assert str(event.get("location")) == "Room 4"
    assert postmortem.incident.number in str(event.get("summary"))
    # moving the meeting sends a new invitation; saving again without changes does not
    services.postmortem_update(postmortem=postmortem, by=responder, review_meeting_at=meeting + timedelta(hours=1))
    services.postmortem_update(postmortem=postmortem, by=responder, review_meeting_at=meeting + timedelta(hours=1))
    send_due()
    assert len(mail.outbox) == 4


def test_removed_reviewer_gets_no_invitation(postmortem, responder, responder2):
    services.postmortem_update(postmortem=postmortem, by=responder, reviewers=[responder2],
                               review_meeting_at=timezone.now() + timedelta(days=1))
    services.postmortem_submit_for_review(postmortem=postmortem, by=responder)
    postmortem.reviewers.clear()
    send_due()
    assert mail.outbox == []
    assert reminder_rows(kind="review_invite").get().error == "No longer a reviewer of the postmortem."


def test_daily_digest_lists_each_owners_overdue_items_once(postmortem, responder, responder2, settings):
    settings.POSTMORTEM_DIGEST_HOUR = 0
    incident = postmortem.incident
    today = timezone.localdate()
    a = services.action_item_create(incident=incident, title="Add alert", owner=responder, due_date=today, by=responder)
    b = services.action_item_create(incident=incident, title="Fix runbook", owner=responder, due_date=today, by=responder)
    c = services.action_item_create(incident=incident, title="Load test", owner=responder2, due_date=today, by=responder)
    done = services.action_item_create(incident=incident, title="Done one", owner=responder2, due_date=today, by=responder)
    services.action_item_update(item=done, status="done", by=responder2)
    services.action_item_create(incident=incident, title="Not yet due", owner=responder2, due_date=today + timedelta(days=3), by=responder)
    ActionItem.objects.filter(pk__in=[a.pk, b.pk, c.pk, done.pk]).update(due_date=today - timedelta(days=2))
    reminder_rows(incident=incident).update(status="cancelled")
    assert action_item_digest_task() == 2
    assert send_due() == 2
    assert action_item_digest_task() == 2  # same rows (one per owner per day), nothing sent twice
    assert send_due() == 0
    assert reminder_rows(kind="digest").count() == 2
    assert len(mail.outbox) == 2
    by_to = {m.to[0]: m for m in mail.outbox}
    first = by_to[responder.email]
    assert first.subject == "2 overdue action items"
    assert "Add alert" in first.body and "Fix runbook" in first.body and "Load test" not in first.body
    second = by_to[responder2.email]
    assert "Load test" in second.body and "Done one" not in second.body and "Not yet due" not in second.body


def test_digest_with_nothing_overdue_any_more_is_cancelled(postmortem, responder, settings):
    settings.POSTMORTEM_DIGEST_HOUR = 0
    item = services.action_item_create(incident=postmortem.incident, title="x", owner=responder, due_date=timezone.localdate(), by=responder)
    ActionItem.objects.filter(pk=item.pk).update(due_date=timezone.localdate() - timedelta(days=1))
    assert action_item_digest_task() == 1
    services.action_item_update(item=item, status="done", by=responder)
    send_due()
    assert mail.outbox == []
    assert reminder_rows(kind="digest").get().status == "cancelled"


def test_digest_waits_for_the_configured_hour(postmortem, responder, settings):
    settings.POSTMORTEM_DIGEST_HOUR = 24  # never
    item = services.action_item_create(incident=postmortem.incident, title="x", owner=responder, due_date=timezone.localdate(), by=responder)
    ActionItem.objects.filter(pk=item.pk).update(due_date=timezone.localdate() - timedelta(days=1))
    assert action_item_digest_task() == 0
    assert not reminder_rows(kind="digest").exists()


def test_owner_changed_back_revives_the_reminders(postmortem, responder, outsider):
    first_owner = postmortem.owner
    services.postmortem_update(postmortem=postmortem, by=responder, owner=outsider)
    services.postmortem_update(postmortem=postmortem, by=responder, owner=first_owner)
    live = reminder_rows(incident=postmortem.incident, status="pending")
    assert {(r.kind, r.user_id) for r in live} == {("due_soon", first_owner.pk), ("overdue", first_owner.pk)}


def test_reminder_to_a_former_owner_is_cancelled_when_claimed(postmortem, outsider):
    """A row the plan did not cancel in time (a race) is checked again when it is sent."""
    reminder = reminder_rows(incident=postmortem.incident, kind="overdue").get()
    type(postmortem).objects.filter(pk=postmortem.pk).update(owner=outsider)
    make_due(reminder)
    send_due()
    reminder.refresh_from_db()
    assert reminder.status == "cancelled" and mail.outbox == []


def test_meeting_window_reminds_the_owner_and_the_page_shows_it_overdue(resolved, responder, client):
    """P1: the postmortem meeting within 48 h of resolution. The owner is reminded (a delivery row,
    sent by email when the window ends) and the postmortem's page says when it is overdue."""
    incident = resolved("P1")
    pm = services.postmortem_create(incident=incident, by=responder, due_at=timezone.now() + timedelta(days=3))
    row = reminder_rows(incident=incident, kind="meeting_due").get()
    assert row.due_at == incident.resolved_at + timedelta(hours=48) and row.user == pm.owner
    client.force_login(responder)
    page = client.get(pm.get_absolute_url()).content.decode()
    assert "to be held by" in page and "Meeting overdue" not in page

    Incident.objects.filter(pk=incident.pk).update(resolved_at=timezone.now() - timedelta(hours=49))  # the window has passed
    page = client.get(pm.get_absolute_url()).content.decode()
    assert "Meeting overdue" in page
    make_due(row)
    assert send_due() == 1
    [message] = mail.outbox
    assert message.subject.startswith("Postmortem meeting not scheduled") and incident.number in message.subject
    assert "none is scheduled" in message.body and message.to == [pm.owner.email]


def test_setting_the_meeting_cancels_its_reminder(resolved, responder, client):
    incident = resolved("P0")
    pm = services.postmortem_create(incident=incident, by=responder, due_at=timezone.now() + timedelta(days=3))
    row = reminder_rows(incident=incident, kind="meeting_due").get()
    services.postmortem_update(postmortem=pm, by=responder, review_meeting_at=timezone.now() + timedelta(hours=20))
    row.refresh_from_db()
    assert row.status == "cancelled"
    assert not reminder_rows(incident=incident, kind="meeting_due", status="pending").exists()
    client.force_login(responder)
    assert "Meeting overdue" not in client.get(pm.get_absolute_url()).content.decode()


def test_a_meeting_set_after_the_window_is_shown_overdue(resolved, responder):
    incident = resolved("P0")
    pm = services.postmortem_create(incident=incident, by=responder, due_at=timezone.now() + timedelta(days=3))
    services.postmortem_update(postmortem=pm, by=responder, review_meeting_at=incident.resolved_at + timedelta(hours=72))
    pm.refresh_from_db()
    assert pm.meeting_overdue(timezone.now())


def test_no_meeting_reminder_where_the_severity_sets_no_window(postmortem):
    assert not reminder_rows(incident=postmortem.incident, kind="meeting_due").exists()  # P2: none
    assert postmortem.meeting_due_at is None and not postmortem.meeting_overdue(timezone.now())
