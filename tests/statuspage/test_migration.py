"""The migration that carries status page subscriber messages over to the delivery layer: rows
written by the old model come back as `statuspage` deliveries that the layer can send."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from delivery import outbox
from delivery.models import Delivery

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("back_to_latest_migrations")]

BEFORE = [("statuspage", "0003_page_time_zone_checked")]
AFTER = [("statuspage", "0004_subscriber_messages_become_deliveries")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_old_rows_become_deliveries_that_still_go_out(responder, smtp_server):
    from tests.incidents.factories import declare

    incident = declare("Search is down", by=responder)
    old = _migrate(BEFORE)
    Subscriber = old.get_model("statuspage", "Subscriber")
    Notification = old.get_model("statuspage", "Notification")
    StatusUpdate = old.get_model("incidents", "StatusUpdate")
    now = timezone.now()
    update = StatusUpdate.objects.create(incident_id=incident.pk, body="Errors.", status="investigating", visibility="public",
                                         created_at=now)
    reader = Subscriber.objects.create(code="reader000001", kind="email", email="reader@example.com", confirmed_at=now)
    hook = Subscriber.objects.create(code="hook00000001", kind="webhook", endpoint="https://hooks.example.com/s/e/c?t=1",
                                     confirmed_at=now)
    Notification.objects.create(subscriber=reader, key=f"update:{update.pk}", subject="[Acme] Search is down: Investigating",
                                text="Errors.\nUnsubscribe: x", html="<p>Errors.</p>", state="pending", next_attempt_at=now)
    Notification.objects.create(subscriber=hook, key="component:abc:1", payload={"page": {"id": "p"}}, state="failed",
                                attempts=6, last_error="HTTP 410", next_attempt_at=now - timedelta(hours=1))

    _migrate(AFTER)
    email, webhook = Delivery.objects.filter(purpose="statuspage").order_by("pk")
    assert (email.channel, email.destination_id, email.dedup_key, email.status) == ("email", reader.pk, f"update:{update.pk}", "pending")
    assert email.incident_id == incident.pk and email.target == "reader@example.com"
    assert (webhook.channel, webhook.status, webhook.attempts, webhook.error) == ("statuspage_webhook", "failed", 6, "HTTP 410")
    assert webhook.target == "https://hooks.example.com/…" and webhook.incident_id is None

    outbox.deliver(email.pk)
    email.refresh_from_db()
    assert email.status == "sent", email.error
    [mail] = smtp_server.messages
    assert mail["Subject"] == "[Acme] Search is down: Investigating" and str(mail["List-Unsubscribe"]).strip().startswith("<http")
    assert "Errors." in mail.get_body(preferencelist=("plain",)).get_content()
    assert mail.get_body(preferencelist=("html",)).get_content().strip() == "<p>Errors.</p>"
