"""Fixtures of the status page tests: components on services, the worker's reactions run by
calling the tasks, a real local SMTP server and a local HTTP receiver for webhooks."""

import copy
import json
import socket
import threading
import uuid
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from delivery import outbox
from delivery.models import Delivery, DeliveryStatus
from incidents.models import TimelineEvent
from incidents.statuspage.models import ComponentGroup, PageSettings, StatusComponent
from incidents.statuspage.services import component_save
from incidents.tasks import dispatch_event_task
from tests.incidents.factories import ServiceFactory


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings):
    """A key prefix of its own per test: Redis is shared (other runs, the broker), so never clear it."""
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"{caches['default'].get('KEY_PREFIX', '')}-sp-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches
    yield


@pytest.fixture
def page(db):
    return PageSettings.objects.create(name="Acme status", support_email="help@acme.test")


@pytest.fixture
def components(db, page):
    """api (in group Platform, degrades on alert), web, db: dict slug -> StatusComponent."""
    group = ComponentGroup.objects.create(name="Platform", position=1)
    made = {}
    for i, (slug, name, grp, degrade) in enumerate([("api", "API", group, True), ("web", "Website", None, False), ("db", "Database", group, False)]):
        service = ServiceFactory(name=f"svc {slug}", slug=slug)
        made[slug] = component_save(component=StatusComponent(service=service, name=name, group=grp, position=i, degrade_on_alert=degrade))
    return made


def run_worker_events():
    """Do what the worker does after commit: hand every undispatched event to the subscribers."""
    for pk in TimelineEvent.objects.filter(dispatched_at__isnull=True).order_by("pk").values_list("pk", flat=True):
        dispatch_event_task(pk)


def subscriber_messages(**filters):
    """The status page's rows of the delivery layer (purpose `statuspage`)."""
    return Delivery.objects.filter(purpose="statuspage", **filters)


def deliver_all():
    """Send every due subscriber message through the delivery layer (what its task or sweep
    does); returns how many were sent."""
    ids = list(subscriber_messages(status=DeliveryStatus.PENDING, due_at__lte=timezone.now()).order_by("pk").values_list("pk", flat=True))
    for pk in ids:
        outbox.deliver(pk)
    return subscriber_messages(pk__in=ids, status=DeliveryStatus.SENT).count()


@pytest.fixture
def worker_events():
    return run_worker_events


class _Smtp:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on 127.0.0.1; Django's SMTP backend points at it."""
    handler = _Smtp()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def http_receiver():
    """A threaded HTTP server on 127.0.0.1 recording JSON POSTs: (url, [bodies])."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            received.append({"path": self.path, "body": json.loads(self.rfile.read(length)), "headers": dict(self.headers)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


__all__ = ["deliver_all", "run_worker_events", "subscriber_messages"]
