"""Delivery over real sockets: SMTP (aiosmtpd), Slack, Teams and signed webhooks (a local HTTP
receiver), a hanging receiver, a failing receiver, retries with backoff."""

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from delivery import outbox
from delivery.models import Delivery, DeliveryStatus
from oncall.notifications import services
from oncall.notifications.models import ContactMethod
from tests.incidents.factories import declare

from .factories import email_method, page_message, paging_settings, webhook_method

pytestmark = pytest.mark.django_db
S = DeliveryStatus


def deliver_all(rows):
    for row in rows:
        outbox.deliver(row.pk)
    for row in rows:
        row.refresh_from_db()
    return rows


def test_email_goes_through_real_smtp_with_text_html_and_ack_link(smtp_server, responder, client):
    incident = declare(by=responder, title="Checkout is down")
    email_method(responder)
    [row] = deliver_all(services.notify_user(user=responder, message=page_message(incident), dedup_key="k"))
    assert row.status == S.SENT and row.attempts == 1

    [mail] = smtp_server.wait_for(1)
    assert mail.recipients == ["responder@example.com"]
    assert mail.message["Subject"] == f"[P1] {incident.number} Checkout is down"
    text, html = mail.part("text/plain"), mail.part("text/html")
    assert "You are on call" in text and "You are on call" in html
    link = re.search(r"(http://\S+/ack/[^/\s]+/)", text).group(1)
    assert f'href="{link}"' in html

    path = link.split("127.0.0.1:8000", 1)[-1]
    page = client.get(path)  # following the link, not signed in
    assert page.status_code == 200
    assert incident.number in page.text and "Responder" in page.text
    incident.refresh_from_db()
    assert incident.acknowledged_at is None, "a GET (a mail scanner) must not acknowledge"

    done = client.post(path)
    assert done.status_code == 200
    incident.refresh_from_db()
    assert incident.acknowledged_by == responder
    assert incident.timeline.filter(kind="acknowledged", data__via="acknowledge link").exists()


def test_slack_gets_block_kit_with_links(receiver, responder):
    incident = declare(by=responder, title="Search is slow")
    webhook_method(responder, f"{receiver.url}/slack", kind="slack")
    deliver_all(services.notify_user(user=responder, message=page_message(incident), dedup_key="k"))
    [req] = receiver.wait_for(1, "/slack")
    body = req.json()
    assert body["text"].startswith(f"[P1] {incident.number} Search is slow")
    kinds = [b["type"] for b in body["blocks"]]
    assert kinds == ["header", "section", "actions"]
    urls = {e["action_id"]: e["url"] for e in body["blocks"][2]["elements"]}
    assert urls["open"].endswith(incident.get_absolute_url())
    assert "/ack/" in urls["acknowledge"]


def test_teams_gets_an_adaptive_card_message(receiver, responder):
    incident = declare(by=responder)
    webhook_method(responder, f"{receiver.url}/teams", kind="teams")
    deliver_all(services.notify_user(user=responder, message=page_message(incident), dedup_key="k"))
    [req] = receiver.wait_for(1, "/teams")
    body = req.json()
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["body"][0]["inlines"][0]["text"].startswith("[P1] ")
    assert {a["title"] for a in card["actions"]} == {"Open in the portal", "Acknowledge"}
    assert all(a["type"] == "Action.OpenUrl" for a in card["actions"])


def test_generic_webhook_is_signed_per_standard_webhooks(receiver, responder):
    incident = declare(by=responder)
    method = webhook_method(responder, f"{receiver.url}/hook")
    [row] = deliver_all(services.notify_user(user=responder, message=page_message(incident), dedup_key="k"))
    [req] = receiver.wait_for(1, "/hook")
    payload = Webhook(method.secret).verify(req.body, req.headers)  # raises on a bad signature
    assert payload["data"]["incident_id"] == incident.pk
    assert "/ack/" in payload["data"]["ack_url"]
    assert req.headers["webhook-id"] == f"msg_{row.public_id.hex}"
    with pytest.raises(Exception):
        Webhook(method.secret).verify(req.body.replace(b"page", b"PAGE"), req.headers)
    other = services.contact_method_create(user=responder, kind="webhook", target=f"{receiver.url}/x")
    with pytest.raises(Exception):
        Webhook(other.secret).verify(req.body, req.headers)


def test_hanging_receiver_times_out_and_does_not_stop_other_targets(receiver, smtp_server, responder, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    receiver.behaviour["/hang"] = (200, 30)
    incident = declare(by=responder)
    webhook_method(responder, f"{receiver.url}/hang")
    webhook_method(responder, f"{receiver.url}/ok")
    email_method(responder)
    rows = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")
    started = time.monotonic()
    deliver_all(rows)
    elapsed = time.monotonic() - started
    assert elapsed < 3, f"a hanging receiver held the worker {elapsed:.1f}s"
    hang = next(r for r in rows if ContactMethod.objects.get(pk=r.destination_id).target.endswith("/hang"))
    assert hang.status == S.PENDING and "Timeout" in hang.error and hang.attempts == 1
    assert {r.status for r in rows if r is not hang} == {S.SENT}
    assert receiver.for_path("/ok") and smtp_server.inbox


def test_failing_receiver_is_retried_with_backoff_then_failed(receiver, responder, settings):
    paging_settings(settings, max_attempts=3, retry_base_seconds=30)
    receiver.behaviour["/500"] = (500, 0)
    incident = declare(by=responder)
    webhook_method(responder, f"{receiver.url}/500")
    [row] = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")

    before = timezone.now()
    follow = outbox.deliver(row.pk)
    row.refresh_from_db()
    assert row.status == S.PENDING and row.attempts == 1 and row.response_code == 500
    assert timedelta(seconds=29) < row.due_at - before < timedelta(seconds=32)
    assert [(r.pk, r.due_at) for r in follow] == [(row.pk, row.due_at)]
    assert outbox.deliver(row.pk) == []  # not due yet: nothing happens

    Delivery.objects.filter(pk=row.pk).update(due_at=timezone.now())
    before = timezone.now()
    outbox.deliver(row.pk)
    row.refresh_from_db()
    assert row.attempts == 2 and timedelta(seconds=59) < row.due_at - before < timedelta(seconds=62)  # doubled

    Delivery.objects.filter(pk=row.pk).update(due_at=timezone.now())
    assert outbox.deliver(row.pk) == []
    row.refresh_from_db()
    assert row.status == S.FAILED and row.attempts == 3 and "HTTP 500" in row.error
    assert len(receiver.for_path("/500")) == 3


def test_client_error_fails_at_once(receiver, responder):
    receiver.behaviour["/gone"] = (404, 0)
    incident = declare(by=responder)
    webhook_method(responder, f"{receiver.url}/gone")
    [row] = deliver_all(services.notify_user(user=responder, message=page_message(incident), dedup_key="k"))
    assert row.status == S.FAILED and row.attempts == 1 and row.response_code == 404


def test_sweep_delivers_what_the_fast_path_missed_and_claims_once(receiver, responder, settings):
    settings.DELIVERY_SWEEP_GRACE_SECONDS = 0
    incident = declare(by=responder)
    webhook_method(responder, f"{receiver.url}/hook")
    [row] = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")
    outbox.sweep(paging=True)
    outbox.sweep(paging=True)
    outbox.deliver(row.pk)  # the ETA task arriving late
    row.refresh_from_db()
    assert row.status == S.SENT and row.attempts == 1
    assert len(receiver.for_path("/hook")) == 1


def test_sweep_puts_rows_stuck_in_sending_back(receiver, responder, settings):
    settings.DELIVERY_SWEEP_GRACE_SECONDS = 0
    incident = declare(by=responder)
    webhook_method(responder, f"{receiver.url}/hook")
    [row] = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")
    assert outbox.claim(row.pk).row is not None  # a worker claimed it, then died
    Delivery.objects.filter(pk=row.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
    outbox.sweep(paging=True)
    row.refresh_from_db()
    assert row.status == S.SENT
    assert len(receiver.for_path("/hook")) == 1


def test_rotated_secret_signs_the_next_delivery_and_the_old_one_stops_verifying(client, receiver, responder):
    incident = declare(by=responder)
    method = webhook_method(responder, f"{receiver.url}/hook")
    old = method.secret
    client.force_login(responder)
    response = client.post(f"/notifications/methods/{method.public_id}/rotate-secret/")
    assert response.status_code == 302 and response["Location"].endswith(f"#method-{method.public_id}")
    method.refresh_from_db()
    assert method.secret != old and method.secret.startswith("whsec_")

    deliver_all(services.notify_user(user=responder, message=page_message(incident), dedup_key="after-rotation"))
    [req] = receiver.wait_for(1, "/hook")
    Webhook(method.secret).verify(req.body, req.headers)
    with pytest.raises(Exception):
        Webhook(old).verify(req.body, req.headers)


def test_rotating_through_the_api_and_refusals(api_for, responder, responder2, receiver):
    method = webhook_method(responder, f"{receiver.url}/hook")
    email = email_method(responder)
    api = api_for(responder)
    rotated = api.post(f"/api/v1/contact-methods/{method.public_id}/rotate-secret/")
    assert rotated.status_code == 200 and rotated.json()["secret"] not in ("", method.secret)
    refused = api.post(f"/api/v1/contact-methods/{email.public_id}/rotate-secret/")
    assert refused.status_code == 400 and "Only generic webhooks are signed" in refused.content.decode()
    assert api_for(responder2).post(f"/api/v1/contact-methods/{method.public_id}/rotate-secret/").status_code == 404
