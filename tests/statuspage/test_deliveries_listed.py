"""Status-page messages and postmortem reminders are deliveries like the pages: they show with
the incident's deliveries on its page, in /api/v1/notifications/ (same shape) and in the admin."""

from datetime import timedelta

import pytest
from django.utils import timezone

from delivery import outbox
from incidents.statuspage import services
from incidents.statuspage.models import Subscriber
from postmortems import services as postmortems
from tests.incidents.factories import declare
from tests.notifications.factories import email_method

from .conftest import deliver_all, run_worker_events, subscriber_messages

pytestmark = pytest.mark.django_db

FIELDS = {"id", "purpose", "kind", "incident", "user", "contact_method", "subscription", "channel", "target", "title", "dedup_key",
          "step", "status", "due_at", "attempts", "max_attempts", "sent_at", "response_code", "error", "created_at"}


def _incident_with_subscriber_message(components, responder):
    sub = Subscriber.objects.create(kind="webhook", endpoint="https://hooks.example.com/secret/path?token=x",
                                    confirmed_at=timezone.now())
    inc = declare("Search is down", by=responder)
    services.incident_publish_update(incident=inc, body="Search returns errors.", by=responder)
    run_worker_events()
    return inc, sub, subscriber_messages(incident=inc).get()


def test_subscriber_message_is_on_the_incident_page_api_and_admin(client, viewer, viewer_api, admin_user, components, responder):
    inc, _sub, row = _incident_with_subscriber_message(components, responder)
    assert row.channel == "statuspage_webhook" and row.target == "https://hooks.example.com/…"  # no path, no token

    client.force_login(viewer)
    page = client.get(f"/incidents/{inc.number}/").content.decode()
    assert "Statuspage_webhook" in page and "https://hooks.example.com/…" in page and "token=x" not in page
    detail = client.get(f"/notifications/deliveries/{row.public_id}/")
    assert detail.status_code == 200 and "https://hooks.example.com/…" in detail.content.decode()

    listed = viewer_api.get("/api/v1/notifications/", {"incident": inc.number}).json()["results"]
    [item] = [r for r in listed if r["purpose"] == "statuspage"]
    assert set(item) == FIELDS
    assert item["incident"] == inc.number and item["contact_method"] is None and item["subscription"] is None
    assert item["title"] == "[Acme status] Search is down: Investigating"

    client.force_login(admin_user)
    admin = client.get("/admin/delivery/delivery/", {"purpose": "statuspage"})
    assert admin.status_code == 200 and "hooks.example.com" in admin.content.decode()
    assert client.get(f"/admin/delivery/delivery/{row.pk}/change/").status_code == 200


def test_a_destination_id_is_read_only_for_its_own_purpose(viewer_api, components, responder):
    """A status-page row whose subscriber id equals a contact method's id does not name that method."""
    method = email_method(responder)
    sub = Subscriber.objects.create(kind="email", email="reader@example.com", confirmed_at=timezone.now())
    outbox.create(purpose="statuspage", channel="email", target=sub.email, dedup_key="same-id", destination_id=method.pk,
                  message={"kind": "update", "title": "x", "body": ""})
    [item] = viewer_api.get("/api/v1/notifications/", {"purpose": "statuspage"}).json()["results"]
    assert item["contact_method"] is None


def test_postmortem_reminders_are_listed_with_their_incident(viewer_api, responder, responder2):
    inc = declare("Checkout down", by=responder)
    postmortems.postmortem_create(incident=inc, by=responder, owner=responder2, due_at=timezone.now() + timedelta(days=2))
    listed = viewer_api.get("/api/v1/notifications/", {"incident": inc.number, "purpose": "postmortem_reminders"}).json()["results"]
    assert {(r["kind"], r["user"], r["channel"]) for r in listed} == {("due_soon", responder2.username, "email"),
                                                                      ("overdue", responder2.username, "email")}
    assert all(r["contact_method"] is None and set(r) == FIELDS for r in listed)


def test_sent_subscriber_message_counts_on_the_incident(components, responder, http_receiver):
    url, received = http_receiver
    Subscriber.objects.create(kind="webhook", endpoint=url, confirmed_at=timezone.now())
    inc = declare("API down", by=responder)
    services.incident_publish_update(incident=inc, body="Down.", by=responder)
    run_worker_events()
    assert deliver_all() == 1
    assert inc.deliveries.filter(purpose="statuspage", status="sent").count() == 1 and len(received) == 1
