"""Subscriber emails and webhooks whatever an incident's public name or update says: a real
local SMTP server and HTTP receiver stand for the far ends."""

import pytest
from django.utils import timezone

from delivery import outbox
from delivery.models import DeliveryStatus
from incidents.statuspage import services
from incidents.statuspage.models import Subscriber
from tests.incidents.factories import declare

from .conftest import deliver_all, run_worker_events, subscriber_messages

pytestmark = pytest.mark.django_db

NAME = "Payments\r\ndown\x0b p95 > 3 s & <rising> \u202eevil\x1b"


def test_subscriber_email_and_webhook_survive_control_characters_and_show_text_as_typed(
        components, responder, smtp_server, http_receiver):
    url, received = http_receiver
    Subscriber.objects.create(kind="email", email="reader@example.com", confirmed_at=timezone.now())
    Subscriber.objects.create(kind="webhook", endpoint=url, confirmed_at=timezone.now())
    inc = declare(NAME, by=responder)
    services.incident_publish_update(incident=inc, body="Card payments & <fail>\x1b for \"some\" users.", by=responder,
                                     components={components["api"]: "major_outage"})
    run_worker_events()
    deliver_all()
    assert set(subscriber_messages().values_list("status", flat=True)) == {DeliveryStatus.SENT}

    [mail] = smtp_server.messages
    assert mail["Subject"] == "[Acme status] Payments down p95 > 3 s & <rising> evil: Investigating"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Payments down" in text and "p95 > 3 s & <rising>" in text and "Card payments & <fail> for \"some\" users." in text
    assert "&gt;" not in text and "&amp;" not in text and "&quot;" not in text and "\x1b" not in text
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "&lt;rising&gt;" in html and "<rising>" not in html
    bodies = [r["body"] for r in received]
    incident = next(b for b in bodies if "incident" in b)
    assert incident["incident"]["name"].startswith("Payments")


def test_rows_carried_over_with_hostile_text_are_still_sent(components, smtp_server):
    """A row as the migration carries it over (rendered subject, text and HTML) with a multi-line
    subject and hostile text is sent, not retried for ever."""
    sub = Subscriber.objects.create(kind="email", email="reader@example.com", confirmed_at=timezone.now())
    row = outbox.create(purpose="statuspage", channel="email", target=sub.email, dedup_key="old", destination_id=sub.pk,
                        message={"kind": "update", "title": "Line\r\nBcc: victim@example.com", "body": "body\x0b",
                                 "template": "statuspage_message", "context": {"html": "<p>x</p>"}})
    outbox.deliver(row.pk)
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT, row.error
    [mail] = smtp_server.messages
    assert mail["Subject"] == "Line Bcc: victim@example.com" and mail["Bcc"] is None


@pytest.mark.parametrize("path", ["/status/feed.atom", "/status/feed.rss"])
def test_feeds_stay_valid_xml_with_control_characters_in_names_and_updates(client, components, responder, path):
    from xml.etree import ElementTree

    inc = declare(NAME, by=responder)
    services.incident_publish_update(incident=inc, body="Card \x0b payments \x1b fail & <b>ok</b>", by=responder,
                                     components={components["api"]: "major_outage"})
    response = client.get(path)
    assert response.status_code == 200
    root = ElementTree.fromstring(response.content)
    assert "Payments down p95 > 3 s & <rising> evil" in "".join(root.itertext())
