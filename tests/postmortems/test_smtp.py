"""Reminders over a real SMTP socket (aiosmtpd on 127.0.0.1): text, HTML and the .ics arrive."""

import email
import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from postmortems import services

from .conftest import make_due, reminder_rows, send_due

pytestmark = pytest.mark.django_db


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield inbox
    finally:
        controller.stop()


def test_review_invitation_over_smtp(smtp_server, postmortem, responder, responder2):
    reminder_rows(incident=postmortem.incident).update(status="cancelled")
    services.postmortem_update(postmortem=postmortem, by=responder, reviewers=[responder2],
                               review_meeting_at=timezone.now() + timedelta(days=1))
    services.postmortem_submit_for_review(postmortem=postmortem, by=responder)
    assert send_due() == 1
    [(rcpt, message)] = smtp_server.messages
    assert rcpt == [responder2.email]
    types = [part.get_content_type() for part in message.walk()]
    assert "text/plain" in types and "text/html" in types and "text/calendar" in types
    calendar = next(p for p in message.walk() if p.get_content_type() == "text/calendar").get_payload(decode=True).decode()
    assert "BEGIN:VEVENT" in calendar and "METHOD:REQUEST" in calendar and f"mailto:{responder2.email}" in calendar
    assert reminder_rows(kind="review_invite").get().status == "sent"


def test_smtp_down_is_recorded_and_retried(settings, postmortem):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", s.getsockname()[1]  # nothing listens here
    settings.EMAIL_TIMEOUT = 2
    reminder = reminder_rows(incident=postmortem.incident, kind="overdue").get()
    make_due(reminder)
    send_due()
    reminder.refresh_from_db()
    assert "Connection" in reminder.error
    assert reminder.status == "pending" and reminder.attempts == 1 and reminder.due_at > timezone.now()
