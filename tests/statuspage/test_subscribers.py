"""Subscribers: double opt-in through a real local SMTP server, component choice, unsubscribe
links, signed expiring tokens, rate limits, webhooks in Statuspage's format, durable retries."""

import re
from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from delivery import outbox
from delivery.models import DeliveryStatus
from incidents import services as core
from incidents.statuspage import notify, services, tasks
from incidents.statuspage.models import Subscriber
from tests.incidents.factories import declare

from .conftest import deliver_all, run_worker_events, subscriber_messages

pytestmark = pytest.mark.django_db


def _link(message, pattern):
    text = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(rf"http://\S+{pattern}\S+/", text)
    assert match, text
    return match.group(0).replace("http://127.0.0.1:8000", "")


def _subscribe(client, email, components=()):
    return client.post("/status/subscribe/", {"kind": "email", "email": email, "components": [c.pk for c in components]})


def test_email_double_opt_in_update_and_unsubscribe_over_smtp(client, components, responder, smtp_server, django_capture_on_commit_callbacks):
    response = _subscribe(client, "Reader@Example.com")
    assert response.status_code == 200 and "Check your inbox" in response.content.decode()
    sub = Subscriber.objects.get()
    assert sub.email == "reader@example.com" and sub.confirmed_at is None
    deliver_all()
    [confirm] = smtp_server.messages
    assert confirm["To"] == "reader@example.com" and "Confirm" in confirm["Subject"]
    assert "List-Unsubscribe" in confirm
    confirm_path = _link(confirm, "/status/subscribe/confirm/")

    # Nothing is sent before confirmation.
    inc = declare("Payments failing", by=responder)
    services.incident_publish_update(incident=inc, body="Card payments fail.", by=responder, components={components["api"]: "major_outage"})
    run_worker_events()
    deliver_all()
    assert len(smtp_server.messages) == 1

    assert "Confirm subscription" in client.get(confirm_path).content.decode()  # GET only asks
    assert Subscriber.objects.get().confirmed_at is None
    assert client.post(confirm_path).status_code == 200
    assert Subscriber.objects.get().confirmed_at is not None

    services.incident_publish_update(incident=inc, body="We found the cause.", by=responder, status="identified")
    run_worker_events()
    run_worker_events()  # a second delivery of the event builds no second message
    assert deliver_all() == 1
    [_, update] = smtp_server.messages
    assert update["Subject"] == "[Acme status] Payments failing: Identified"
    text = update.get_body(preferencelist=("plain",)).get_content()
    assert "We found the cause." in text and "/status/incidents/" in text
    html = update.get_body(preferencelist=("html",)).get_content()
    assert "Unsubscribe" in html and "We found the cause." in html
    unsubscribe_path = _link(update, "/status/unsubscribe/")
    header_token = update["List-Unsubscribe"].strip().strip("<>").rstrip("/").rsplit("/", 1)[1]
    body_token = unsubscribe_path.rstrip("/").rsplit("/", 1)[1]
    # both links act for this subscriber (each is signed on its own, so their timestamps may differ)
    assert notify.read_token(header_token, "unsubscribe") == notify.read_token(body_token, "unsubscribe") == Subscriber.objects.get()

    one_click = Client(enforce_csrf_checks=True)  # a mail client's RFC 8058 POST carries no CSRF token
    assert update["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert one_click.post(unsubscribe_path, {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert Subscriber.objects.get().unsubscribed_at is not None
    assert Client(enforce_csrf_checks=True).post(confirm_path).status_code == 403  # confirming needs the form
    services.incident_publish_update(incident=inc, body="Resolved.", by=responder, status="resolved")
    run_worker_events()
    deliver_all()
    assert len(smtp_server.messages) == 2


def test_component_choice_filters_updates(components, responder, smtp_server):
    api_only = Subscriber.objects.create(kind="email", email="api@example.com", confirmed_at=timezone.now())
    api_only.components.set([components["api"]])
    Subscriber.objects.create(kind="email", email="all@example.com", confirmed_at=timezone.now())
    inc = declare("Website slow", by=responder)
    services.incident_publish_update(incident=inc, body="Slow.", by=responder, components={components["web"]: "degraded_performance"})
    run_worker_events()
    deliver_all()
    assert [m["To"] for m in smtp_server.messages] == ["all@example.com"]


def test_maintenance_steps_notify_subscribers(components, responder, smtp_server):
    Subscriber.objects.create(kind="email", email="ops@example.com", confirmed_at=timezone.now())
    now = timezone.now()
    m = services.maintenance_save(title="Kernel patching", services=[components["db"].service], scheduled_for=now - timedelta(seconds=1),
                                  scheduled_until=now + timedelta(hours=1), by=responder)
    tasks.maintenance_sweep_task()
    services.maintenance_advance(maintenance=m, to="completed", by=responder)
    deliver_all()
    assert [msg["Subject"] for msg in smtp_server.messages] == [
        "[Acme status] Kernel patching: Scheduled", "[Acme status] Kernel patching: In progress", "[Acme status] Kernel patching: Completed",
    ]
    assert all("/status/unsubscribe/" in msg.get_body(preferencelist=("plain",)).get_content() for msg in smtp_server.messages)


def test_webhook_subscriber_gets_statuspage_payloads(client, components, responder, http_receiver):
    url, received = http_receiver
    response = client.post("/status/subscribe/", {"kind": "webhook", "endpoint": url})
    assert response.status_code == 200
    assert deliver_all() == 1  # the confirmation request (tests/security/test_webhook_confirmation.py)
    confirm = received.pop()["body"]["subscription_confirmation"]["confirm_url"].replace("http://127.0.0.1:8000", "")
    assert client.post(confirm).status_code == 200
    inc = declare("API down", by=responder)
    services.incident_publish_update(incident=inc, body="API is down.", by=responder, components={components["api"]: "major_outage"})
    run_worker_events()
    assert deliver_all() == 2
    bodies = [r["body"] for r in received]
    component = next(b for b in bodies if "component_update" in b)
    assert set(component) == {"meta", "page", "component_update", "component"}
    assert component["component_update"]["old_status"] == "operational" and component["component_update"]["new_status"] == "major_outage"
    assert component["component"]["id"] == components["api"].code
    incident = next(b for b in bodies if "incident" in b)
    assert set(incident) == {"meta", "page", "incident"}
    assert set(incident["meta"]) == {"unsubscribe", "documentation"} and "/status/unsubscribe/" in incident["meta"]["unsubscribe"]
    assert set(incident["page"]) == {"id", "status_indicator", "status_description"}
    assert incident["page"]["status_indicator"] == "critical"
    assert incident["incident"]["name"] == "API down" and incident["incident"]["incident_updates"][0]["body"] == "API is down."


def test_failed_delivery_stays_a_row_and_is_retried_with_backoff(components, responder, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there
    Subscriber.objects.create(kind="email", email="x@example.com", confirmed_at=timezone.now())
    inc = declare("Thing", by=responder)
    services.incident_publish_update(incident=inc, body="Words.", by=responder)
    run_worker_events()
    deliver_all()
    n = subscriber_messages().get()
    assert n.status == "pending" and n.attempts == 1 and n.error and n.due_at > timezone.now()
    assert n.incident_id == inc.pk  # shown with the incident's deliveries
    assert outbox.deliver(n.pk) == [] and subscriber_messages().get().attempts == 1  # not due yet: nothing happens
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    subscriber_messages().filter(pk=n.pk).update(due_at=timezone.now())
    assert deliver_all() == 1
    assert outbox.deliver(n.pk) == []  # claim twice: the second does nothing
    n.refresh_from_db()
    assert n.status == DeliveryStatus.SENT and n.attempts == 2


def test_tokens_are_signed_and_expire(client, components, settings):
    sub = Subscriber.objects.create(kind="email", email="t@example.com")
    token = notify.make_token(sub, "confirm")
    assert client.post(f"/status/subscribe/confirm/{token[:-2]}xx/").status_code == 400
    assert client.post(f"/status/subscribe/confirm/{notify.make_token(sub, 'unsubscribe')}/").status_code == 400  # wrong purpose
    forged = signing.dumps({"s": sub.code, "a": "confirm"}, salt="another-salt", compress=True)
    assert client.post(f"/status/subscribe/confirm/{forged}/").status_code == 400
    settings.STATUSPAGE_CONFIRM_MAX_AGE = -1
    assert client.post(f"/status/subscribe/confirm/{token}/").status_code == 400
    assert Subscriber.objects.get().confirmed_at is None


def test_subscription_form_validates_and_rate_limits(client, components, settings):
    assert _subscribe(client, "not-an-address").status_code == 400
    assert client.post("/status/subscribe/", {"kind": "email"}).status_code == 400
    assert client.post("/status/subscribe/", {"kind": "webhook", "endpoint": "ftp://x"}).status_code == 400
    assert client.post("/status/subscribe/", {"kind": "email", "email": "bot@example.com", "website": "spam"}).status_code == 400
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    assert client.post("/status/subscribe/", {"kind": "webhook", "endpoint": "http://169.254.169.254/latest"}).status_code == 400
    assert client.post("/status/subscribe/", {"kind": "webhook", "endpoint": "http://127.0.0.1:9/x"}).status_code == 400
    settings.STATUSPAGE_SUBSCRIBE_LIMIT_PER_HOUR = 7
    assert _subscribe(client, "a@example.com").status_code == 200
    assert _subscribe(client, "b@example.com").status_code == 429  # 8th attempt from this client
    other = client.post("/status/subscribe/", {"kind": "email", "email": "c@example.com"}, REMOTE_ADDR="10.9.9.9")
    assert other.status_code == 200
    assert not Subscriber.objects.filter(email="b@example.com").exists()


@pytest.mark.parametrize("endpoint", [
    "http://100.100.100.200/latest/meta-data/",  # Alibaba Cloud metadata (shared address space)
    "http://[fd00:ec2::254]/latest/meta-data/",  # AWS metadata over IPv6
    "http://[::ffff:169.254.169.254]/latest",  # IPv4-mapped link-local
    "http://user:secret@127.0.0.1:9/x",  # credentials in the URL
])
def test_public_webhook_subscriptions_never_reach_metadata_even_where_private_networks_are_allowed(client, components, settings, endpoint):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True  # as on a LAN install: only the always-refused ranges stop these
    response = client.post("/status/subscribe/", {"kind": "webhook", "endpoint": endpoint})
    assert response.status_code == 400
    assert not Subscriber.objects.exists()


def test_webhook_delivery_connects_to_the_checked_address_and_checks_again_each_time(components, responder, http_receiver,
                                                                                    monkeypatch, settings):
    """One lookup a delivery, and the connection goes to the address that lookup vetted: a DNS
    answer that changes between the check and the connect (rebinding) cannot move it. A name
    that points at a metadata address by the next delivery is refused and nothing is sent."""
    import socket

    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    url, received = http_receiver
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    sub = Subscriber.objects.create(kind="webhook", endpoint=f"http://status-hook.example:{port}/hook", confirmed_at=timezone.now())
    real = socket.getaddrinfo
    answers = ["127.0.0.1"]  # the first lookup of a delivery; any second one gets TEST-NET, where nothing answers

    def resolve(host, *args, **kwargs):
        if host == "status-hook.example":
            ip = answers.pop(0) if answers else "192.0.2.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    inc = declare("API down", by=responder)
    services.incident_publish_update(incident=inc, body="First.", by=responder)
    run_worker_events()
    assert deliver_all() == 1
    assert len(received) == 1 and subscriber_messages(destination_id=sub.pk).get().status == "sent"

    answers[:] = ["169.254.169.254"]
    services.incident_publish_update(incident=inc, body="Second.", by=responder)
    run_worker_events()
    deliver_all()
    refused = subscriber_messages(destination_id=sub.pk).exclude(status="sent").get()
    assert refused.status == "failed" and "169.254.169.254" in refused.error
    assert len(received) == 1


def test_subscribing_twice_sends_one_confirmation(client, components):
    _subscribe(client, "twice@example.com")
    _subscribe(client, "twice@example.com")
    assert Subscriber.objects.count() == 1 and subscriber_messages().count() == 1


def test_internal_update_notifies_nobody(components, responder):
    Subscriber.objects.create(kind="email", email="x@example.com", confirmed_at=timezone.now())
    inc = declare("Quiet", by=responder)
    core.incident_post_update(incident=inc, body="internal", visibility="internal", by=responder)
    run_worker_events()
    assert not subscriber_messages().exists()
