"""Admin pages, the account-email fallback, metrics."""

import pytest
from django.urls import reverse

from delivery import outbox
from delivery.models import Delivery
from oncall.notifications import demo, services
from oncall.notifications.models import ContactMethod, StakeholderSubscription
from tests.incidents.factories import declare

from .factories import email_method, page_message, webhook_method

pytestmark = pytest.mark.django_db


def test_person_without_contact_methods_is_reached_at_account_email(responder):
    incident = declare(by=responder)
    [row] = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")
    method = ContactMethod.objects.get(pk=row.destination_id)
    assert method.target == "responder@example.com"
    assert method.label.startswith("Account email")


def test_disabled_methods_are_respected(responder):
    incident = declare(by=responder)
    method = email_method(responder)
    services.contact_method_update(method=method, is_active=False)
    assert services.notify_user(user=responder, message=page_message(incident), dedup_key="k") == []
    assert ContactMethod.objects.filter(user=responder).count() == 1


def test_admin_pages_render_and_refuse_unsafe_urls(client, admin_user, responder, receiver):
    incident = declare(by=responder)
    webhook_method(responder, f"{receiver.url}/h")
    [row] = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")
    outbox.deliver(row.pk)
    client.force_login(admin_user)
    assert client.get(reverse("admin:delivery_delivery_changelist")).status_code == 200
    for name in ("contactmethod", "notificationrule", "stakeholdersubscription", "updatereminder"):
        assert client.get(reverse(f"admin:notifications_{name}_changelist")).status_code == 200, name
    assert client.get(reverse("admin:delivery_delivery_change", args=[row.pk])).status_code == 200
    page = client.post(reverse("admin:notifications_contactmethod_add"), {
        "user": responder.pk, "kind": "webhook", "target": "http://169.254.169.254/", "label": "", "is_active": "on",
        "rate_limit_count": 5, "rate_limit_window": "00:10:00",
        "rules-TOTAL_FORMS": 0, "rules-INITIAL_FORMS": 0, "rules-MIN_NUM_FORMS": 0, "rules-MAX_NUM_FORMS": 1000,
    })
    assert page.status_code == 200 and "never allowed" in page.text
    assert ContactMethod.objects.count() == 1


def test_admin_retry_action_requeues_failed_rows(client, admin_user, responder, receiver):
    receiver.behaviour["/gone"] = (410, 0)
    incident = declare(by=responder)
    webhook_method(responder, f"{receiver.url}/gone")
    [row] = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")
    outbox.deliver(row.pk)
    row.refresh_from_db()
    assert row.status == "failed"
    client.force_login(admin_user)
    client.post(reverse("admin:delivery_delivery_changelist"), {"action": "retry_now", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.status == "pending" and row.attempts == 0


def test_metrics_report_queued_notifications(client, responder):
    incident = declare(by=responder)
    email_method(responder)
    services.notify_user(user=responder, message=page_message(incident), dedup_key="k")
    assert Delivery.objects.count() == 1
    body = client.get("/metrics").text
    assert 'portal_deliveries_queued{purpose="paging",state="pending"} 1.0' in body


def test_demo_seeder_gives_people_contact_methods_and_subscriptions(responder, responder2, viewer):
    demo.seed({"users": {"dana": responder, "sam": responder2, "viewer": viewer}})
    kinds = list(ContactMethod.objects.filter(user=responder).exclude(kind="ntfy").values_list("kind", flat=True))
    assert sorted(kinds) == ["email", "email", "sms", "voice"]  # and ntfy push when its server resolves
    assert not ContactMethod.objects.filter(user=viewer).exists()
    assert StakeholderSubscription.objects.count() == 2


def test_update_reminders_are_a_record_in_the_admin(client, admin_user, responder):
    """The reminders' sweep writes these rows (and recomputes them after every update): shown, never edited by hand."""
    from oncall.notifications.models import UpdateReminder
    from oncall.notifications.reminders import reminder_sync

    reminder = reminder_sync(declare(by=responder, severity="P1"))
    due = UpdateReminder.objects.get(pk=reminder.pk).due_at
    client.force_login(admin_user)
    assert client.get(reverse("admin:notifications_updatereminder_change", args=[reminder.pk])).status_code == 200
    assert client.post(reverse("admin:notifications_updatereminder_change", args=[reminder.pk]),
                       {"status": "done", "due_at_0": "2030-01-01", "due_at_1": "00:00:00"}).status_code == 403
    assert client.post(reverse("admin:notifications_updatereminder_delete", args=[reminder.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:notifications_updatereminder_add")).status_code == 403
    assert UpdateReminder.objects.get(pk=reminder.pk).due_at == due
