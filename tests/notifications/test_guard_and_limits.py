"""Request-forgery guard on user-given URLs, and per-contact-method rate limits."""

import socket
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from delivery import netguard, outbox
from delivery.models import Delivery, DeliveryStatus
from incidents.exceptions import InvalidInput
from oncall.notifications import purposes, services
from oncall.notifications.models import ContactMethod
from tests.incidents.factories import declare

from .factories import page_message, webhook_method

pytestmark = pytest.mark.django_db
S = DeliveryStatus


@pytest.mark.parametrize("url", [
    "ftp://example.com/hook", "file:///etc/passwd", "gopher://127.0.0.1/", "javascript:alert(1)", "http://", "not a url",
    "http://user:pw@127.0.0.1/hook",
])
def test_only_http_urls_are_accepted(url, responder):
    with pytest.raises(InvalidInput) as exc:
        services.contact_method_create(user=responder, kind="webhook", target=url)
    assert exc.value.field == "target"
    assert not ContactMethod.objects.exists()


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/", "http://169.254.0.1:8080/", "http://[fd00:ec2::254]/latest/",
    "http://[fe80::1]/", "http://0.0.0.0:80/", "http://[::ffff:169.254.169.254]/", "http://100.100.100.200/",
])
def test_link_local_and_metadata_addresses_are_always_refused(url, responder, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    with pytest.raises(InvalidInput, match="link-local|metadata"):
        services.contact_method_create(user=responder, kind="slack", target=url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/", "http://10.1.2.3/", "http://192.168.1.1/", "http://[::1]/", "http://localhost/"])
def test_private_ranges_only_when_allowed(url, responder, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(InvalidInput, match="private"):
        services.contact_method_create(user=responder, kind="teams", target=url)
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    assert services.contact_method_create(user=responder, kind="teams", target=url).pk


def test_public_address_is_accepted_without_private_networks(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    netguard.check_address("93.184.216.34")
    with pytest.raises(netguard.UnsafeURL):
        netguard.check_address("::ffff:10.0.0.1")


def test_send_time_check_catches_a_host_that_now_resolves_elsewhere(receiver, responder, settings, monkeypatch):
    """Saved while the name pointed at an allowed address; at send time it resolves to the
    metadata address (DNS rebinding): nothing is sent, the row fails permanently."""
    incident = declare(by=responder)
    port = receiver.url.rsplit(":", 1)[1]
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1", "169.254.169.254"])

    def fake_getaddrinfo(host, *args, **kw):
        if host == "hooks.example.test":
            address = next(answers)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    webhook_method(responder, f"http://hooks.example.test:{port}/hook")  # checked: 127.0.0.1
    [row] = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")
    outbox.deliver(row.pk)
    row.refresh_from_db()
    assert row.status == S.FAILED and "169.254.169.254" in row.error
    assert receiver.requests == []


def test_send_connects_to_the_checked_address(receiver, responder, monkeypatch):
    """The request goes to the address the guard vetted, with the original Host header."""
    incident = declare(by=responder)
    port = int(receiver.url.rsplit(":", 1)[1])
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **kw: (
        [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))] if host == "hooks.example.test" else real(host, *a, **kw)))
    webhook_method(responder, f"http://hooks.example.test:{port}/hook")
    [row] = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")
    outbox.deliver(row.pk)
    [req] = receiver.wait_for(1, "/hook")
    assert req.headers["host"] == f"hooks.example.test:{port}"


def _wait_for_fresh_window(method):
    _start, end = purposes.rate_window(method, timezone.now())
    if (end - timezone.now()).total_seconds() < 5:
        time.sleep((end - timezone.now()).total_seconds() + 0.1)


def test_alert_storm_reaches_a_person_as_a_few_messages_with_counts(receiver, responder):
    method = webhook_method(responder, f"{receiver.url}/storm", rate_limit_count=3, rate_limit_window=timedelta(hours=1))
    incidents = [declare(by=responder, title=f"Disk full on node {i}") for i in range(40)]
    _wait_for_fresh_window(method)
    for i, incident in enumerate(incidents):
        for row in services.notify_user(user=responder, message=page_message(incident), dedup_key=f"storm:{i}"):
            outbox.deliver(row.pk)
    assert len(receiver.for_path("/storm")) == 3
    assert Delivery.objects.filter(status=S.FOLDED).count() == 37
    digest = Delivery.objects.get(kind="rate_digest")
    assert digest.status == S.PENDING and digest.folded.count() == 37
    _start, end = purposes.rate_window(method, timezone.now())
    assert digest.due_at == end

    assert outbox.claim(digest.pk).row is None  # not before the window ends
    Delivery.objects.filter(pk=digest.pk).update(due_at=timezone.now())
    outbox.deliver(digest.pk)
    outbox.deliver(digest.pk)
    requests = receiver.for_path("/storm")
    assert len(requests) == 4
    data = requests[-1].json()["data"]
    assert data["title"] == "37 more notifications held back by your rate limit"
    assert "…and 32 more" in data["body"] and "Disk full on node 3" in data["body"]


def test_test_notifications_are_not_rate_limited(receiver, responder):
    method = webhook_method(responder, f"{receiver.url}/t", rate_limit_count=1, rate_limit_window=timedelta(hours=1))
    _wait_for_fresh_window(method)
    for _ in range(3):
        row = services.contact_method_send_test(method=method, by=responder)
        outbox.deliver(row.pk)
    assert len(receiver.for_path("/t")) == 3
