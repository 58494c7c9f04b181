"""The paths that matter, on a real Celery worker and the configured broker: a public update
reaches subscribers, and a window due in a moment starts by its ETA task."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from delivery.models import Delivery
from incidents.models import Maintenance
from incidents.statuspage import services
from incidents.statuspage.models import PublicIncident, StatusComponent, Subscriber
from incidents.statuspage.subscriptions import subscribe_webhook
from tests.conftest import wait_for
from tests.incidents.factories import declare

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]




def test_public_update_reaches_subscribers_through_the_worker(celery_worker, components, responder):
    Subscriber.objects.create(kind="email", email="reader@example.com", confirmed_at=timezone.now())
    inc = declare("Search is down", by=responder)
    services.incident_publish_update(incident=inc, body="Search returns errors.", by=responder,
                                     components={components["api"]: "major_outage"})
    assert wait_for(lambda: Delivery.objects.filter(purpose="statuspage", incident=inc, status="sent").exists())
    assert [m.subject for m in mail.outbox] == ["[Acme status] Search is down: Investigating"]
    assert PublicIncident.objects.get(incident=inc).name == "Search is down"


def test_maintenance_due_soon_starts_by_its_eta_task(celery_worker, components, responder):
    now = timezone.now()
    m = services.maintenance_save(title="Quick patch", services=[components["db"].service], scheduled_for=now + timedelta(seconds=2),
                                  scheduled_until=now + timedelta(seconds=4), by=responder)
    assert wait_for(lambda: Maintenance.objects.get(pk=m.pk).status != "scheduled")
    assert wait_for(lambda: Maintenance.objects.get(pk=m.pk).status == "completed")
    assert StatusComponent.objects.get(pk=components["db"].pk).status == "operational"


def test_webhook_subscriber_confirms_by_echo_and_gets_updates_through_the_worker(celery_worker, components, responder):
    """The confirmation request, the echo that confirms it and the update after it all go through
    the delivery layer's tasks on the real worker."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received = []

    class Echo(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            received.append(body)
            answer = json.dumps({"token": body.get("subscription_confirmation", {}).get("token", "")}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sub = subscribe_webhook(endpoint=f"http://127.0.0.1:{server.server_address[1]}/hook")
        assert wait_for(lambda: Subscriber.objects.get(pk=sub.pk).confirmed_at is not None), "the echo never confirmed"
        inc = declare("API down", by=responder)
        services.incident_publish_update(incident=inc, body="API is down.", by=responder)
        assert wait_for(lambda: Delivery.objects.filter(purpose="statuspage", incident=inc, status="sent").exists())
        assert wait_for(lambda: any("incident" in b for b in received))
        incident = next(b for b in received if "incident" in b)
        assert incident["incident"]["name"] == "API down" and "/status/unsubscribe/" in incident["meta"]["unsubscribe"]
    finally:
        server.shutdown()
        server.server_close()
