"""A local HTTP server standing for Slack's Web API and Mattermost's REST API v4 (it records every
call), requests signed as each chat signs them, and a helper that runs the chat core's
reactions and deliveries in this thread (the real-worker test runs them in a worker)."""

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from slack_sdk.signature import SignatureVerifier

from chatops.models import MATTERMOST, SLACK, Workspace
from tests.conftest import free_port

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
MM_TOKEN = "mm-slash-token"


class FakeChat:
    def __init__(self):
        self.calls: list[tuple[str, str, dict, dict]] = []  # (http method, api method or path, body, headers)
        self.emails: dict[str, tuple[str, bool]] = {}
        self.history: dict[str, str] = {}  # message ts -> its text (conversations.history)
        self.fail: dict[str, list[tuple[int, dict, dict]]] = {}
        self.lock = threading.Lock()
        self.n = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _body(self) -> dict:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if not raw:
                    query = urllib.parse.urlparse(self.path).query
                    return dict(urllib.parse.parse_qsl(query))
                if "json" in (self.headers.get("Content-Type") or ""):
                    return json.loads(raw)  # an object, or a list (Mattermost's POST /channels/direct)
                return dict(urllib.parse.parse_qsl(raw))

            def _answer(self, status: int, body: dict, headers: dict | None = None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def handle_any(self):
                path = urllib.parse.urlparse(self.path).path
                body = self._body()
                name = path.removeprefix("/api/") if not path.startswith("/api/v4/") else f"{self.command} {path.removeprefix('/api/v4')}"
                with fake.lock:
                    fake.calls.append((self.command, name, body, dict(self.headers)))
                    fake.n += 1
                    n = fake.n
                    failing = fake.fail.get(name) or []
                    failure = failing.pop(0) if failing else None
                if failure:
                    return self._answer(*failure)
                if path.startswith("/api/v4/"):
                    return self._answer(*fake.mattermost(self.command, path.removeprefix("/api/v4"), body, n))
                return self._answer(200, fake.slack(name, body, n))

            do_GET = do_POST = do_PUT = do_DELETE = handle_any

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def slack(self, method: str, body: dict, n: int) -> dict:
        if method == "auth.test":
            return {"ok": True, "user": "portalbot", "team": "Acme"}
        if method == "users.info":
            email, verified = self.emails.get(body.get("user", ""), ("", False))
            if not email:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": {"id": body["user"], "profile": {"email": email}, "is_email_confirmed": verified}}
        if method == "chat.postMessage":
            return {"ok": True, "channel": body.get("channel"), "ts": f"1700000000.{n:06d}"}
        if method == "conversations.history":
            ts = str(body.get("latest", ""))
            return {"ok": True, "messages": [{"type": "message", "ts": ts, "user": "U1", "text": self.history[ts]}] if ts in self.history else []}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": f"D{body.get('users', '')}"}}
        if method == "conversations.create":
            return {"ok": True, "channel": {"id": f"C{n:08d}", "name": body.get("name")}}
        return {"ok": True}

    def mattermost(self, verb: str, path: str, body: dict, n: int):
        if path == "/users/me":
            return 200, {"id": "bot1", "username": "portalbot"}
        if path.startswith("/users/"):
            email, verified = self.emails.get(path.removeprefix("/users/"), ("", False))
            return (200, {"id": path.removeprefix("/users/"), "email": email, "email_verified": verified}) if email else (404, {"id": "api.user.missing"})
        if verb == "POST" and path == "/posts":
            return 201, {"id": f"post{n}", "channel_id": body.get("channel_id")}
        if verb == "POST" and path == "/channels/direct":
            return 201, {"id": "dm_" + "_".join(sorted(body)), "type": "D"}
        if verb == "POST" and path == "/channels":
            return 201, {"id": f"chan{n}", "name": body.get("name")}
        return 200, {"status": "OK"}

    def named(self, name: str) -> list[dict]:
        return [body for _verb, method, body, _h in self.calls if method == name]

    def wait_for(self, predicate, timeout=20.0, what="calls"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}: {[c[1] for c in self.calls]}")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_chat():
    chat = FakeChat()
    yield chat
    chat.close()


@pytest.fixture
def slack_ws(db, fake_chat):
    return Workspace.objects.create(kind=SLACK, name="Acme", team_id="T0001", api_url=fake_chat.url + "/api/", bot_token="xoxb-test",
                                    signing_secret=SIGNING_SECRET, alerts_channel="CALERTS", channel_severities="P0,P1",
                                    archive_after_minutes=60)


@pytest.fixture
def mm_ws(db, fake_chat):
    return Workspace.objects.create(kind=MATTERMOST, name="Ops", team_id="team1", api_url=fake_chat.url, bot_token="mm-bot",
                                    command_token=MM_TOKEN, alerts_channel="alerts1", channel_severities="P1")


def slack_headers(body: str, *, secret=SIGNING_SECRET, timestamp=None) -> dict:
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}


def slack_command_body(text: str, *, user="U1", channel="CGENERAL", team="T0001") -> str:
    return urllib.parse.urlencode({
        "token": "deprecated", "team_id": team, "team_domain": "acme", "channel_id": channel, "channel_name": "general",
        "user_id": user, "user_name": "someone", "command": "/incident", "text": text,
        "api_app_id": "A1", "response_url": "https://hooks.slack.com/commands/T1/1/x", "trigger_id": "1.2.3"})


def slack_action_body(action: str, incident_id, *, user="U1", ts="1700000000.000001", channel="CALERTS", team="T0001") -> str:
    payload = {"type": "block_actions", "team": {"id": team}, "user": {"id": user}, "channel": {"id": channel},
               "message": {"ts": ts}, "container": {"message_ts": ts},
               "actions": [{"action_id": action, "value": str(incident_id), "type": "button", "action_ts": "1"}]}
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def run_chat(rounds: int = 10, purposes=("chat",)) -> None:
    """Run the chat core's pending event reactions and due deliveries of `purposes` here, until
    none is left."""
    from django.utils import timezone

    from delivery import outbox
    from delivery.models import Delivery, DeliveryStatus
    from incidents import events
    from incidents.models import EventDelivery
    from incidents.models import EventDeliveryStatus as EventStatus

    for _ in range(rounds):
        pending = list(EventDelivery.objects.filter(subscriber="chatops.incident_channel", status=EventStatus.PENDING).order_by("pk"))
        for row in pending:
            events.delivery_run(row.pk)
        due = list(Delivery.objects.filter(purpose__in=purposes, status=DeliveryStatus.PENDING, due_at__lte=timezone.now()).order_by("pk"))
        for row in due:
            outbox.deliver(row.pk)
        if not pending and not due:
            return


def slack_event_body(event: dict, *, team="T0001") -> str:
    return json.dumps({"token": "deprecated", "team_id": team, "api_app_id": "A1", "type": "event_callback",
                       "event_id": "Ev1", "event_time": int(time.time()), "event": event})
