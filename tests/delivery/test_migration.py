"""The migration that carries paging notifications over to the delivery layer: every row, its
outcome and times, its destination, and the digest it was folded into."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("notifications", "0001_initial"), ("delivery", "0001_delivery")]
AFTER = [("notifications", "0002_notifications_become_deliveries")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_latest_migrations")
def test_notification_rows_become_deliveries(responder):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Notification = old.get_model("notifications", "Notification")
    ContactMethod = old.get_model("notifications", "ContactMethod")
    Subscription = old.get_model("notifications", "StakeholderSubscription")
    method = ContactMethod.objects.create(user_id=responder.pk, kind="email", target="r@example.com")
    sub = Subscription.objects.create(name="Execs", kind="email", target="execs@example.com")
    then = timezone.now() - timedelta(days=3)
    common = {"channel": "email", "target": "r@example.com", "due_at": then}
    digest = Notification.objects.create(dedup_key="digest:1", contact_method=method, composer="rate_digest",
                                         message={"kind": "digest"}, **common)
    folded = Notification.objects.create(dedup_key="page", contact_method=method, user_id=responder.pk, status="folded",
                                         digest=digest, message={"title": "Down"}, **common)
    sent = Notification.objects.create(dedup_key="event:1", subscription=sub, status="sent", sent_at=then, attempts=1,
                                       response_code=250, message={"title": "Update"}, **common)
    orphan_a = Notification.objects.create(dedup_key="gone", status="failed", error="HTTP 410", message={}, **common)
    orphan_b = Notification.objects.create(dedup_key="gone", status="cancelled", message={}, **common)
    Notification.objects.filter(pk=sent.pk).update(created_at=then)

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    Delivery = new.get_model("delivery", "Delivery")
    rows = {r.public_id: r for r in Delivery.objects.all()}
    assert len(rows) == 5
    d, f, s = rows[digest.public_id], rows[folded.public_id], rows[sent.public_id]
    assert (d.purpose, d.kind, d.destination_id) == ("paging", "rate_digest", method.pk)
    assert (f.status, f.digest_id, f.user_id, f.message) == ("folded", d.pk, responder.pk, {"title": "Down"})
    assert (s.purpose, s.destination_id, s.status, s.attempts, s.response_code) == ("stakeholders", sub.pk, "sent", 1, 250)
    assert s.created_at == then and s.sent_at == then
    a, b = rows[orphan_a.public_id], rows[orphan_b.public_id]
    assert a.destination_id < 0 and b.destination_id < 0 and a.destination_id != b.destination_id
    assert (a.status, a.error) == ("failed", "HTTP 410")
