"""SMS and voice through Twilio: the real `twilio` client pointed at a local server that answers
like Twilio's REST API and records what it was sent, and webhooks signed with the library's own
RequestValidator (unsigned or wrongly signed ones are refused)."""

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from urllib.parse import parse_qs

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from twilio.request_validator import RequestValidator

from delivery import outbox
from delivery.models import Delivery, DeliveryStatus
from incidents.exceptions import InvalidInput
from incidents.models import Service
from oncall.notifications import phones, selectors, services
from oncall.notifications.models import ContactMethod
from tests.incidents.factories import declare

from .factories import page_message

pytestmark = pytest.mark.django_db
SID, TOKEN, FROM, SITE = "AC" + "1" * 32, "test-auth-token", "+15005550006", "https://portal.example.com"
NUMBER = "+44 20 7946 0958"
E164 = "+442079460958"


@dataclass
class FakeTwilio:
    url: str = ""
    requests: list = field(default_factory=list)
    status: int = 201

    def sent(self, resource: str) -> list[dict]:
        return [form for path, form in self.requests if path.endswith(f"/{resource}.json")]


@pytest.fixture
def twilio(settings):
    state = FakeTwilio()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            form = {k: v if len(v) > 1 else v[0] for k, v in parse_qs(body).items()}
            state.requests.append((self.path, form))
            resource = "SM" if self.path.endswith("/Messages.json") else "CA"
            answer = {"sid": f"{resource}{len(state.requests):032d}", "status": "queued", "account_sid": SID}
            if state.status >= 400:
                answer = {"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": state.status}
            data = json.dumps(answer).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_FROM_NUMBER = SID, TOKEN, FROM
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_API_BASE = state.url
    settings.SITE_URL = SITE
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def signed(client, path, params, token=TOKEN):
    signature = RequestValidator(token).compute_signature(SITE + path, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


def phone(user, kind="sms", verified=True, **kw):
    method = services.contact_method_create(user=user, kind=kind, target=NUMBER, **kw)
    if verified:
        ContactMethod.objects.filter(pk=method.pk).update(verified_at=timezone.now())
        method.refresh_from_db()
    return method


def send(rows):
    for row in rows:
        outbox.deliver(row.pk)
        row.refresh_from_db()
    return rows


def test_numbers_are_normalised_and_limited_to_allowed_countries(responder, settings):
    method = phone(responder, verified=False)
    assert method.target == E164
    with pytest.raises(InvalidInput):
        services.contact_method_create(user=responder, kind="sms", target="12345")
    settings.PHONE_ALLOWED_COUNTRY_CODES = [1]
    with pytest.raises(InvalidInput):
        services.contact_method_create(user=responder, kind="voice", target=NUMBER)


def test_unverified_number_is_not_paged_until_the_code_is_entered(twilio, client, responder):
    method = phone(responder, verified=False)
    assert selectors.paging_plan(responder) == []
    assert responder.pk in selectors.unreachable([responder])
    client.force_login(responder)
    verify = reverse("notifications:method_verify", kwargs={"public_id": method.public_id})
    client.post(verify)
    [row] = Delivery.objects.filter(kind=phones.VERIFY)
    send([row])
    [sms] = twilio.sent("Messages")
    assert sms["To"] == E164 and sms["From"] == FROM
    code = sms["Body"].split("code is ")[1][:6]
    stored = Delivery.objects.get(destination_id=method.pk, kind=phones.VERIFY)
    assert code.isdigit() and code not in json.dumps(stored.message)  # only what was sent held it: no list shows it
    client.post(verify, {"code": "000000" if code != "000000" else "111111"})
    method.refresh_from_db()
    assert method.verified_at is None and method.verify_attempts == 1
    client.post(verify, {"code": code})
    method.refresh_from_db()
    assert method.verified_at is not None
    assert selectors.paging_plan(responder) == [(method, 0)]


def test_verification_codes_expire_and_attempts_are_limited(twilio, responder, settings):
    method = phone(responder, verified=False)
    phones.verify_start(method=method, by=responder)
    for _ in range(settings.PHONE_VERIFY_MAX_ATTEMPTS):
        with pytest.raises(InvalidInput):
            phones.verify_confirm(method=method, code="not-it", by=responder)
    with pytest.raises(InvalidInput, match="tried too often"):
        phones.verify_confirm(method=method, code="123456", by=responder)
    phones.verify_start(method=method, by=responder)
    ContactMethod.objects.filter(pk=method.pk).update(verify_expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(InvalidInput, match="expired"):
        phones.verify_confirm(method=method, code="123456", by=responder)


def test_sms_page_carries_reply_codes_and_a_signed_reply_acknowledges(twilio, responder, responder2):
    incident = declare(by=responder, title="Checkout is down")
    phone(responder2)
    [row] = send(services.notify_user(user=responder2, message=page_message(incident), dedup_key="k"))
    assert row.status == DeliveryStatus.SENT and row.response.startswith("SM")
    [sms] = twilio.sent("Messages")
    assert f"Reply 4 1 to acknowledge {incident.number}, 6 1 to resolve." in sms["Body"]
    assert sms["StatusCallback"] == f"{SITE}/notifications/twilio/status/{row.public_id}/"

    twilio_client = Client(enforce_csrf_checks=True)
    path = reverse("notifications:twilio_sms")
    params = {"From": E164, "To": FROM, "Body": "4 1", "MessageSid": "SM1"}
    assert twilio_client.post(path, params).status_code == 403  # unsigned
    assert signed(twilio_client, path, params, token="wrong").status_code == 403
    assert signed(twilio_client, path, {**params, "Body": "6 1"}, token=TOKEN).status_code == 200  # (a resolve, signed)
    incident.refresh_from_db()
    assert incident.status == "resolved" and incident.timeline.filter(kind="resolved", actor=responder2).exists()


def test_sms_reply_acknowledges_as_the_person(twilio, responder, responder2):
    incident = declare(by=responder)
    phone(responder2)
    send(services.notify_user(user=responder2, message=page_message(incident), dedup_key="k"))
    answer = signed(Client(), reverse("notifications:twilio_sms"), {"From": E164, "Body": " 4 1 "})
    assert answer.status_code == 200 and "acknowledged as Responder2" in answer.text and "<Message>" in answer.text
    incident.refresh_from_db()
    assert incident.acknowledged_by == responder2
    assert incident.timeline.filter(kind="acknowledged", actor=responder2, data__via="SMS reply").exists()


def test_stop_is_honoured_and_start_undoes_it(twilio, responder):
    method = phone(responder)
    path = reverse("notifications:twilio_sms")
    assert signed(Client(), path, {"From": E164, "Body": "stop"}).status_code == 200
    method.refresh_from_db()
    assert method.opted_out_at is not None and selectors.paging_plan(responder) == []
    signed(Client(), path, {"From": E164, "Body": "START"})
    method.refresh_from_db()
    assert method.opted_out_at is None


def test_a_page_already_queued_to_a_number_that_replied_stop_is_not_sent(twilio, responder):
    incident = declare(by=responder)
    phone(responder)
    rows = services.notify_user(user=responder, message=page_message(incident), dedup_key="k")
    signed(Client(), reverse("notifications:twilio_sms"), {"From": E164, "Body": "STOP"})
    [row] = send(rows)
    assert row.status == DeliveryStatus.CANCELLED and "STOP" in row.error
    assert twilio.sent("Messages") == []


@pytest.mark.parametrize("body", ["", "4 999", "hello", "\x00\u2028\x1b[0m", "6" * 2000, "4 77"])
def test_hostile_or_unknown_replies_never_fail(twilio, responder, body):
    phone(responder)
    answer = signed(Client(), reverse("notifications:twilio_sms"), {"From": E164, "Body": body})
    assert answer.status_code == 200
    assert signed(Client(), reverse("notifications:twilio_sms"), {"From": "garbage", "Body": "4"}).status_code == 200


def test_undelivered_sms_fails_the_delivery_and_brings_the_next_rule_forward(twilio, responder, responder2):
    incident = declare(by=responder)
    sms = phone(responder2)
    later = services.contact_method_create(user=responder2, kind="email", target="r2@example.com", add_default_rule=False)
    services.notification_rule_create(user=responder2, contact_method=later, delay_minutes=10)
    rows = services.notify_user(user=responder2, message=page_message(incident), dedup_key="k")
    [sms_row] = send([r for r in rows if r.destination_id == sms.pk])
    status = reverse("notifications:twilio_status", kwargs={"public_id": sms_row.public_id})
    assert signed(Client(), status, {"MessageSid": "SM1", "MessageStatus": "delivered"}).status_code == 204
    sms_row.refresh_from_db()
    assert sms_row.status == DeliveryStatus.SENT and sms_row.response == "SMS delivered"
    signed(Client(), status, {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003"})
    sms_row.refresh_from_db()
    assert sms_row.status == DeliveryStatus.FAILED and "not delivered" in sms_row.error
    email_row = Delivery.objects.get(destination_id=later.pk, step=10)
    assert email_row.due_at <= timezone.now()
    assert incident.timeline.filter(kind="notification.failed").exists()


def test_call_reads_the_page_and_a_keypress_acknowledges(twilio, responder, responder2):
    incident = declare(by=responder, title="Database on fire")
    incident.services.add(Service.objects.create(name="Checkout API", slug="checkout-api"))
    phone(responder2, kind="voice")
    [row] = send(services.notify_user(user=responder2, message=page_message(incident), dedup_key="k"))
    [call] = twilio.sent("Calls")
    voice = f"/notifications/twilio/voice/{row.public_id}/"
    assert call["To"] == E164 and call["From"] == FROM and call["Url"] == SITE + voice
    assert call["StatusCallback"] == f"{SITE}/notifications/twilio/status/{row.public_id}/"
    assert call["MachineDetection"] == "Enable"

    assert Client().post(voice, {"CallSid": "CA1"}).status_code == 403
    script = signed(Client(), voice, {"CallSid": "CA1", "CallStatus": "in-progress"})
    assert script.status_code == 200 and script["Content-Type"].startswith("text/xml")
    assert "<Gather" in script.text and "Database on fire" in script.text and "Severity P1" in script.text
    assert "Press 1 to acknowledge" in script.text and "Service Checkout API" in script.text
    again = signed(Client(), voice, {"CallSid": "CA1", "Digits": "3"})
    assert "<Gather" in again.text
    done = signed(Client(), voice, {"CallSid": "CA1", "Digits": "1"})
    assert "Acknowledged" in done.text
    incident.refresh_from_db()
    assert incident.acknowledged_by == responder2
    assert incident.timeline.filter(kind="acknowledged", actor=responder2, data__via="phone call").exists()


@pytest.mark.parametrize("params", [{"CallStatus": "no-answer"}, {"CallStatus": "busy"},
                                    {"CallStatus": "completed", "AnsweredBy": "machine_end_beep"}])
def test_unanswered_or_voicemail_call_fails_the_delivery(twilio, responder, params):
    incident = declare(by=responder)
    phone(responder, kind="voice")
    [row] = send(services.notify_user(user=responder, message=page_message(incident), dedup_key="k"))
    signed(Client(), f"/notifications/twilio/status/{row.public_id}/", {"CallSid": "CA1", **params})
    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED


def test_unknown_delivery_and_odd_callbacks_never_fail(twilio):
    path = f"/notifications/twilio/status/{uuid.uuid4()}/"
    assert signed(Client(), path, {"MessageStatus": "\x00weird"}).status_code == 204
    voice = signed(Client(), f"/notifications/twilio/voice/{uuid.uuid4()}/", {"Digits": "1"})
    assert voice.status_code == 200 and "no longer available" in voice.text


def test_twilio_refusal_is_a_permanent_failure(twilio, responder):
    method = phone(responder)
    twilio.status = 400
    [row] = send([services.contact_method_send_test(method=method, by=responder)])
    assert row.status == DeliveryStatus.FAILED and "21211" in row.error


def test_test_notification_by_call_reads_the_test(twilio, responder):
    method = phone(responder, kind="voice")
    [row] = send([services.contact_method_send_test(method=method, by=responder)])
    assert row.status == DeliveryStatus.SENT
    script = signed(Client(), f"/notifications/twilio/voice/{row.public_id}/", {"CallSid": "CA1"})
    assert "Test notification" in script.text and "<Gather" not in script.text


def test_demo_gives_one_person_a_phone_ladder():
    call_command("seed_demo", stdout=StringIO())
    ladder = [(m.kind, d) for m, d in selectors.paging_plan(ContactMethod.objects.get(user__username="dana", kind="sms").user)]
    rules = {(r.contact_method.kind, r.delay_minutes) for r in ContactMethod.objects.get(user__username="dana", kind="sms").user.notification_rules.all()}
    assert {("sms", 2), ("voice", 5)} <= rules
    assert ("email", 0) in ladder and all(kind not in ("sms", "voice") for kind, _ in ladder), "unverified numbers are not paged"
