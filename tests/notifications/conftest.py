"""Real far ends over real sockets: an aiosmtpd SMTP server and a threaded HTTP receiver."""

import email
import json
import threading
import time
from dataclasses import dataclass, field
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import free_port


@dataclass
class ReceivedMail:
    envelope_from: str
    recipients: list
    message: email.message.EmailMessage

    def part(self, content_type: str) -> str:
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                return part.get_content()
        raise AssertionError(f"no {content_type} part")


class _Handler:
    def __init__(self, inbox):
        self.inbox = inbox

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        self.inbox.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"




class SMTPServer:
    def __init__(self):
        self.inbox: list[ReceivedMail] = []
        self.port = free_port()
        self.controller = Controller(_Handler(self.inbox), hostname="127.0.0.1", port=self.port)

    def wait_for(self, n=1, timeout=15.0) -> list[ReceivedMail]:
        deadline = time.monotonic() + timeout
        while len(self.inbox) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.inbox) >= n, f"expected {n} mail(s), got {len(self.inbox)}"
        return self.inbox


@pytest.fixture
def smtp_server(settings):
    server = SMTPServer()
    server.controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield server
    finally:
        server.controller.stop()


@dataclass
class Request:
    path: str
    headers: dict
    body: bytes
    received_at: float = field(default_factory=time.monotonic)

    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    """A local HTTP endpoint. `behaviour[path]` = (status, delay seconds[, answer bytes]);
    default 200 at once."""

    url: str = ""
    requests: list = field(default_factory=list)
    behaviour: dict = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)

    def for_path(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def wait_for(self, n=1, path=None, timeout=15.0) -> list[Request]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.for_path(path) if path else self.requests
            if len(got) >= n:
                return got
            time.sleep(0.02)
        raise AssertionError(f"expected {n} request(s) on {path or 'any path'}, got {len(self.for_path(path) if path else self.requests)}")


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            state.requests.append(Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status, delay, *answer = state.behaviour.get(self.path, (200, 0))
            if delay:
                state.release.wait(delay)  # a hanging receiver; released at teardown
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                for name, value in (answer[1] if len(answer) > 1 else {}).items():  # (status, delay, body, headers)
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(answer[0] if answer else b"ok" if status < 300 else b"receiver error")
            except OSError:
                pass  # the client gave up (timeout)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
