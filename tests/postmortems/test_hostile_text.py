"""Reminder emails and review invitations whatever an incident's title or a meeting place says:
over a real SMTP socket, the .ics parsed back with the icalendar library."""

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from django.core import mail
from django.utils import timezone
from icalendar import Calendar

from postmortems import services
from postmortems.models import ActionItem
from postmortems.tasks import action_item_digest_task

from .conftest import reminder_rows, send_due
from .test_smtp import smtp_server  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def _subject(message) -> str:
    """The Subject as a mail client shows it (unfolded, encoded words decoded)."""
    return str(message_from_bytes(message.as_bytes(), policy=policy.default)["Subject"])

TITLE = "p95 > 3 s & <b>\r\nBcc: victim@example.com\x1b \u202eevil"


def test_review_invitation_with_hostile_text_arrives_readable(smtp_server, resolved, responder, responder2):  # noqa: F811
    responder2.first_name, responder2.last_name = 'Ann "the; boss"', "O'Neil,\r\nX"
    responder2.save()
    incident = resolved("P2", title=TITLE)
    pm = services.postmortem_create(incident=incident, by=responder, due_at=timezone.now() + timedelta(days=3))
    reminder_rows(incident=incident).update(status="cancelled")
    meeting = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    services.postmortem_update(postmortem=pm, by=responder, reviewers=[responder2], review_meeting_at=meeting,
                               review_meeting_place="Room 4\r\nATTENDEE:mailto:evil@example.com\x0b;x,y\\z")
    services.postmortem_submit_for_review(postmortem=pm, by=responder)
    assert send_due() == 1
    assert reminder_rows(kind="review_invite").get().status == "sent"

    [(_rcpt, message)] = smtp_server.messages
    subject = _subject(message)
    assert "\n" not in subject and "&gt;" not in subject and "&amp;" not in subject
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert "p95 > 3 s & <b>" in text and "&gt;" not in text and "&amp;" not in text and "&quot;" not in text
    assert "\x1b" not in text and "\u202e" not in text

    ics = next(p for p in message.walk() if p.get_content_type() == "text/calendar").get_payload(decode=True)
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert str(event["location"]) == "Room 4 ATTENDEE:mailto:evil@example.com ;x,y\\z"
    assert "p95 > 3 s & <b> Bcc: victim@example.com evil" in str(event["summary"])
    attendees = event.get("attendee")
    assert not isinstance(attendees, list), "one attendee, no injected one"
    assert str(attendees) == f"mailto:{responder2.email}"
    assert "\x1b" not in ics.decode() and "\x0b" not in ics.decode()


def test_owner_reminder_subject_and_text_show_the_title_as_typed(smtp_server, resolved, responder):  # noqa: F811
    incident = resolved("P2", title=TITLE)
    services.postmortem_create(incident=incident, by=responder, due_at=timezone.now() + timedelta(days=3))
    reminder_rows(incident=incident, kind="overdue").update(due_at=timezone.now() - timedelta(seconds=1))
    reminder_rows(incident=incident).exclude(kind="overdue").update(status="cancelled")
    assert send_due() == 1
    [(_rcpt, message)] = smtp_server.messages
    subject = _subject(message)
    assert subject == f"Postmortem overdue: {incident.number} p95 > 3 s & <b> Bcc: victim@example.com evil"


def test_digest_links_tickets_only_when_http(postmortem, responder, settings):
    settings.POSTMORTEM_DIGEST_HOUR = 0
    today = timezone.localdate()
    for title, link in (("Evil", "javascript:alert(document.cookie)"), ("Good", "https://tracker.example/T-1")):
        item = services.action_item_create(incident=postmortem.incident, title=title, owner=responder, due_date=today, by=responder)
        ActionItem.objects.filter(pk=item.pk).update(ticket_url=link, due_date=today - timedelta(days=1))
    reminder_rows(incident=postmortem.incident).update(status="cancelled")
    assert action_item_digest_task() == 1
    assert send_due() == 1
    [message] = mail.outbox
    html = message.alternatives[0][0]
    assert "javascript:" not in message.body and "javascript:" not in html
    assert "https://tracker.example/T-1" in message.body and 'href="https://tracker.example/T-1"' in html
