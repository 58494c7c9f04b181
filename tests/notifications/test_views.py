"""Staff pages: contact methods, rules, test button, deliveries, subscriptions, incident panel."""

import pytest
from django.urls import reverse

from delivery import outbox
from delivery.models import Delivery
from oncall.notifications import services
from oncall.notifications.models import ContactMethod, NotificationRule, StakeholderSubscription
from tests.incidents.factories import declare

from .factories import email_method, page_message, webhook_method

pytestmark = pytest.mark.django_db


def test_person_page_add_method_rule_and_send_test(client, responder, smtp_server):
    client.force_login(responder)
    page = client.get(reverse("notifications:mine"), follow=True)
    assert page.status_code == 200 and "How you are notified" in page.text

    added = client.post(reverse("notifications:method_create"), {
        "kind": "email", "target": "me@example.com", "label": "Work", "rate_limit_count": 5, "rate_limit_minutes": 10,
    })
    assert added.status_code == 302
    method = ContactMethod.objects.get(user=responder)
    assert NotificationRule.objects.filter(contact_method=method, delay_minutes=0).exists()
    client.post(reverse("notifications:rule_create"), {"contact_method": method.pk, "delay_minutes": 5})
    assert sorted(NotificationRule.objects.values_list("delay_minutes", flat=True)) == [0, 5]

    page = client.get(reverse("notifications:person", args=[responder.pk]))
    assert "Send test notification" in page.text and "After 5 min, if still unacknowledged" in page.text
    sent = client.post(reverse("notifications:method_test", args=[method.public_id]))
    assert sent.status_code == 302
    row = Delivery.objects.get(message__kind="test")
    outbox.deliver(row.pk)
    [mail] = smtp_server.wait_for(1)
    assert mail.recipients == ["me@example.com"] and "Test notification" in mail.message["Subject"]


def test_bad_url_on_the_form_is_a_clear_error_and_saves_nothing(client, responder):
    client.force_login(responder)
    page = client.post(reverse("notifications:method_create"), {
        "kind": "webhook", "target": "http://169.254.169.254/latest/", "rate_limit_count": 5, "rate_limit_minutes": 10,
    })
    assert page.status_code == 400
    assert "link-local and cloud metadata addresses are never allowed" in page.text
    assert not ContactMethod.objects.exists()


def test_people_manage_their_own_and_admins_anyones(client, responder, responder2, admin_user):
    theirs = email_method(responder2)
    client.force_login(responder)
    assert client.get(reverse("notifications:person", args=[responder2.pk])).status_code == 403
    assert client.post(reverse("notifications:method_delete", args=[theirs.public_id])).status_code == 403
    assert client.post(reverse("notifications:method_test", args=[theirs.public_id])).status_code == 403
    client.force_login(admin_user)
    page = client.get(reverse("notifications:person", args=[responder2.pk]))
    assert page.status_code == 200 and "How Responder2 is notified" in page.text
    edited = client.post(reverse("notifications:method_edit", args=[theirs.public_id]), {
        "kind": "email", "target": "new@example.com", "label": "", "rate_limit_count": 2, "rate_limit_minutes": 5,
    })
    assert edited.status_code == 302
    theirs.refresh_from_db()
    assert theirs.target == "new@example.com" and theirs.rate_limit_count == 2 and not theirs.is_active


def test_failures_show_on_the_incident_page_and_deliveries(client, responder, receiver):
    receiver.behaviour["/down"] = (404, 0)
    incident = declare(by=responder)
    webhook_method(responder, f"{receiver.url}/down")
    [row] = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")
    outbox.deliver(row.pk)
    client.force_login(responder)
    page = client.get(incident.get_absolute_url())
    assert "1 notification failed." in page.text and "HTTP 404" in page.text
    listing = client.get(reverse("notifications:list"), {"status": "failed"})
    assert listing.status_code == 200 and "HTTP 404" in listing.text
    detail = client.get(reverse("notifications:detail", args=[row.public_id]))
    assert detail.status_code == 200 and "receiver error" in detail.text


def test_deliveries_need_the_view_permission(client, outsider):
    client.force_login(outsider)
    assert client.get(reverse("notifications:list")).status_code == 403


def test_subscriptions_page(client, admin_user, responder, receiver):
    client.force_login(responder)
    page = client.get(reverse("notifications:subscriptions"))
    assert page.status_code == 200 and "Add a subscription" not in page.text
    assert client.post(reverse("notifications:subscriptions"), {"name": "x"}).status_code == 403
    client.force_login(admin_user)
    added = client.post(reverse("notifications:subscriptions"), {
        "name": "#incidents", "kind": "slack", "target": f"{receiver.url}/s", "frequency": "realtime",
    })
    assert added.status_code == 302
    assert StakeholderSubscription.objects.get().name == "#incidents"
