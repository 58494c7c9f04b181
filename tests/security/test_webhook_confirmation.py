"""Public webhook subscriptions on the status page receive nothing until the endpoint proves
it is willing: it echoes the signed token of the confirmation request in its 2xx answer, or
someone opens the confirmation URL that request carried. Real HTTP over local sockets."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from incidents.statuspage import notify, services
from incidents.statuspage.models import Subscriber
from tests.incidents.factories import declare
from tests.statuspage.conftest import _own_cache_namespace, components, deliver_all, page, run_worker_events  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    """start(echo) -> (url, received): a local HTTP endpoint; `echo` answers confirmations with the token."""
    servers = []

    def start(echo):
        received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                received.append(body)
                answer = b""
                if echo and "subscription_confirmation" in body:
                    answer = json.dumps({"token": body["subscription_confirmation"]["token"]}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/hook", received

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _publish(components, responder):  # noqa: F811
    inc = declare("API down", by=responder)
    services.incident_publish_update(incident=inc, body="API is down.", by=responder, components={components["api"]: "major_outage"})
    run_worker_events()
    deliver_all()


def test_endpoint_that_echoes_the_token_is_confirmed_and_then_gets_updates(client, components, responder, receiver):  # noqa: F811
    url, received = receiver(echo=True)
    assert client.post("/status/subscribe/", {"kind": "webhook", "endpoint": url}).status_code == 200
    sub = Subscriber.objects.get()
    assert sub.confirmed_at is None
    deliver_all()
    confirmation = received[0]["subscription_confirmation"]
    assert set(confirmation) >= {"token", "confirm_url", "endpoint"} and confirmation["endpoint"] == url
    assert "/status/subscribe/confirm/" in confirmation["confirm_url"]
    sub.refresh_from_db()
    assert sub.confirmed_at is not None
    _publish(components, responder)
    assert any("incident" in body for body in received[1:])


def test_endpoint_that_does_not_echo_gets_nothing_but_the_confirmation(client, components, responder, receiver):  # noqa: F811
    url, received = receiver(echo=False)
    client.post("/status/subscribe/", {"kind": "webhook", "endpoint": url})
    deliver_all()
    _publish(components, responder)
    assert len(received) == 1 and "subscription_confirmation" in received[0]
    assert Subscriber.objects.get().confirmed_at is None


def test_opening_the_confirmation_url_confirms_the_webhook(client, components, responder, receiver):  # noqa: F811
    url, received = receiver(echo=False)
    client.post("/status/subscribe/", {"kind": "webhook", "endpoint": url})
    deliver_all()
    path = received[0]["subscription_confirmation"]["confirm_url"].replace("http://127.0.0.1:8000", "")
    assert client.get(path).status_code == 200 and Subscriber.objects.get().confirmed_at is None  # GET changes nothing
    assert client.post(path).status_code == 200
    assert Subscriber.objects.get().confirmed_at is not None
    _publish(components, responder)
    assert any("incident" in body for body in received[1:])


def test_a_token_for_another_subscriber_does_not_confirm(client, components, receiver):  # noqa: F811
    url, received = receiver(echo=False)
    other = Subscriber.objects.create(kind="webhook", endpoint="http://127.0.0.1:9/other")
    client.post("/status/subscribe/", {"kind": "webhook", "endpoint": url})
    sub = Subscriber.objects.get(endpoint=url)
    assert notify.webhook_echo_confirms(sub, json.dumps({"token": notify.make_token(other, "confirm")})) is False
    assert notify.webhook_echo_confirms(sub, notify.make_token(sub, "confirm")) is True
