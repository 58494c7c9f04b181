"""Phones (SMS and voice through Twilio): verifying a number, SMS reply codes, what an inbound
SMS or a keypress does, and what Twilio's status callbacks mean for a delivery.

Everything here acts through services: replies and keypresses acknowledge or resolve through
`services.notifications_act` (the incident services, as the person), a status callback that
says a message never arrived fails the delivery through `delivery.outbox.report_failure`, whose
paging hook brings the person's next rule forward. Inbound text and callback parameters are
hostile: they are parsed, never trusted, and never make a request fail."""

import hashlib
import hmac
import re
from dataclasses import dataclass, replace

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from delivery import outbox, safetext
from delivery.channels import InvalidTarget
from delivery.channels.phone import normalise
from delivery.messages import Message
from delivery.models import Delivery
from incidents.audit import audit_record
from incidents.exceptions import DomainError, InvalidInput
from incidents.services import timeline_record

from . import services
from .ack import AckNotAllowed, InvalidAckLink, grant_for
from .models import PHONE_KINDS, ChannelKind, ContactMethod, ReplyCode

VERIFY = "verify"
CODES = 99  # reply codes per number, reused round-robin
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
START_WORDS = {"START", "UNSTOP", "YES", "OPTIN"}
HELP_WORDS = {"HELP", "INFO"}
REPLY = re.compile(r"^\s*([46])\s*(\d{1,2})?\s*[.!]?\s*$")
SMS_FAILURES = {"undelivered": "The SMS was not delivered", "failed": "The SMS could not be sent"}
CALL_FAILURES = {"busy": "The line was busy", "no-answer": "Nobody answered the call", "failed": "The call could not be made",
                 "canceled": "The call was cancelled"}


class EscalateNow:
    """"Escalate now" from a call (keypress 2): bound in OncallConfig.ready() to the escalation
    engine's service (which imports this app, so this app cannot import it)."""

    fn = None

    def bind(self, fn) -> None:
        self.fn = fn

    def __call__(self, *, incident, by) -> None:
        if self.fn is None:
            raise InvalidInput("Escalation is not available.", field="action")
        self.fn(incident=incident, by=by)


escalate_now = EscalateNow()


# --- verification ----------------------------------------------------------------------------------


def _digest(method: ContactMethod, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"phone-verify:{method.pk}:{method.target}:{code}".encode(), hashlib.sha256).hexdigest()


CODE_SLOT, SPOKEN_CODE_SLOT = "[[code]]", "[[spoken-code]]"


def verification_code(row: Delivery) -> str:
    """The code a verification delivery carries: derived from the row when it is sent, never
    stored (only its digest is, on the contact method), so no list of deliveries shows it."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"phone-verify-code:{row.public_id}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10 ** 6:06d}"


def with_verification_code(row: Delivery, message: Message) -> Message:
    """The verification message as it goes out, with its code filled in."""
    code = verification_code(row)
    return replace(message, body=message.body.replace(CODE_SLOT, code).replace(SPOKEN_CODE_SLOT, " ".join(code)))


@transaction.atomic
def verify_start(*, method: ContactMethod, by) -> Delivery:
    """Send a new code to the number (by SMS, or read out by a call); the last one stops working."""
    if method.kind not in PHONE_KINDS:
        raise InvalidInput("Only phone numbers are verified.", field="kind")
    minutes = int(settings.PHONE_VERIFY_CODE_MAX_AGE.total_seconds() // 60)
    slot = CODE_SLOT if method.kind == ChannelKind.SMS else SPOKEN_CODE_SLOT
    message = Message(kind=VERIFY, title="Incident portal verification code",
                      body=f"Your incident portal verification code is {slot}. It expires in {minutes} minutes.")
    row = services.page_row(method=method, dedup_key=f"verify:{method.pk}:{timezone.now().isoformat()}", message=message,
                            kind=VERIFY, max_attempts=1)
    ContactMethod.objects.filter(pk=method.pk).update(
        verify_code_hash=_digest(method, verification_code(row)),
        verify_expires_at=timezone.now() + settings.PHONE_VERIFY_CODE_MAX_AGE, verify_attempts=0)
    outbox.enqueue_on_commit([row])
    audit_record(by=by, obj=method.user, action="changed", message=f"verification code sent: {method.get_kind_display()} {method.target}")
    return row


def verify_confirm(*, method: ContactMethod, code: str, by) -> ContactMethod:
    """Check a code typed on the person page: within its time, within the attempts allowed."""
    code = re.sub(r"\s", "", str(code or ""))[:20]
    now = timezone.now()
    with transaction.atomic():
        counted = ContactMethod.objects.filter(
            pk=method.pk, verify_expires_at__gt=now, verify_attempts__lt=settings.PHONE_VERIFY_MAX_ATTEMPTS,
        ).exclude(verify_code_hash="").update(verify_attempts=F("verify_attempts") + 1)
    if not counted:
        raise InvalidInput("This code has expired or was tried too often: send a new one.", field="code")
    method.refresh_from_db()
    if not hmac.compare_digest(method.verify_code_hash, _digest(method, code)):
        left = settings.PHONE_VERIFY_MAX_ATTEMPTS - method.verify_attempts
        raise InvalidInput(f"That code is not right ({left} attempt{'s' if left != 1 else ''} left).", field="code")
    with transaction.atomic():
        ContactMethod.objects.filter(pk=method.pk).update(verified_at=now, verify_code_hash="", verify_expires_at=None)
        audit_record(by=by, obj=method.user, action="changed", message=f"phone number verified: {method.get_kind_display()} {method.target}")
    method.refresh_from_db()
    return method


# --- SMS reply codes ---------------------------------------------------------------------------------


def reply_code_for(row: Delivery) -> str:
    """The short code an SMS page about an incident is answered by (the same on every attempt)."""
    if not row.incident_id:
        return ""
    existing = ReplyCode.objects.filter(contact_method_id=row.destination_id, delivery_id=row.pk).first()
    if existing:
        return str(existing.code)
    last = ReplyCode.objects.filter(contact_method_id=row.destination_id).order_by("-created_at", "-pk").first()
    code = (last.code % CODES) + 1 if last else 1
    ReplyCode.objects.update_or_create(contact_method_id=row.destination_id, code=code,
                                       defaults={"delivery_id": row.pk, "incident_id": row.incident_id})
    return str(code)


# --- inbound SMS ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    text: str


def _act(method: ContactMethod, incident_id: int, verb: str) -> str:
    try:
        grant = grant_for(incident_id=incident_id, user_id=method.user_id)
        services.notifications_act(incident=grant.incident, person=grant.user, verb=verb, via="SMS reply")
    except (AckNotAllowed, InvalidAckLink) as exc:
        return str(exc)
    except DomainError as exc:
        return exc.message
    done = "acknowledged" if verb == "acknowledge" else "resolved"
    return f"{grant.incident.number} {done} as {grant.user.get_full_name() or grant.user.get_username()}."


def sms_inbound(*, sender: str, body: str) -> Answer:
    """What an SMS from `sender` saying `body` does, and the answer to text back."""
    try:
        number = normalise(sender)
    except InvalidTarget:
        return Answer("")
    methods = list(ContactMethod.objects.filter(kind=ChannelKind.SMS, target=number).select_related("user"))
    if not methods:
        return Answer("This number is not set up in the incident portal.")
    word = safetext.line(body or "", 160).strip().upper()
    now = timezone.now()
    if word in STOP_WORDS:
        for method in methods:
            if ContactMethod.objects.filter(pk=method.pk, opted_out_at__isnull=True).update(opted_out_at=now):
                audit_record(by=method.user, obj=method.user, action="changed", message=f"SMS opted out (STOP) from {number}")
        return Answer("")  # the carrier or Twilio confirms an opt-out itself
    if word in START_WORDS:
        for method in methods:
            if ContactMethod.objects.filter(pk=method.pk, opted_out_at__isnull=False).update(opted_out_at=None):
                audit_record(by=method.user, obj=method.user, action="changed", message=f"SMS opted in again (START) from {number}")
        return Answer("You will get incident pages by SMS again.")
    if word in HELP_WORDS:
        return Answer("Incident portal pages. Reply 4 <code> to acknowledge, 6 <code> to resolve, STOP to opt out.")
    found = REPLY.match(word)
    if not found:
        return Answer("Not understood. Reply 4 <code> to acknowledge, 6 <code> to resolve.")
    verb = "acknowledge" if found.group(1) == "4" else "resolve"
    codes = ReplyCode.objects.filter(contact_method__in=methods)
    if found.group(2):
        codes = codes.filter(code=int(found.group(2)))
    code = codes.order_by("-created_at", "-pk").first()
    if code is None:
        return Answer("No page matches that code.")
    method = next(m for m in methods if m.pk == code.contact_method_id)
    return Answer(_act(method, code.incident_id, verb))


# --- status callbacks and calls -------------------------------------------------------------------


def paging_row(public_id) -> Delivery | None:
    return Delivery.objects.select_related("incident", "user").filter(public_id=public_id, purpose=services.PAGING).first()


def status_callback(*, row: Delivery, params) -> None:
    """Twilio's report on an SMS (MessageStatus) or a call (CallStatus, AnsweredBy)."""
    message_status = safetext.line(str(params.get("MessageStatus", "")), 30).lower()
    call_status = safetext.line(str(params.get("CallStatus", "")), 30).lower()
    answered_by = safetext.line(str(params.get("AnsweredBy", "")), 30).lower()
    failure = SMS_FAILURES.get(message_status) or CALL_FAILURES.get(call_status)
    if not failure and answered_by.startswith("machine") or answered_by == "fax":
        failure = "The call reached voicemail"
    if failure:
        code = safetext.line(str(params.get("ErrorCode", "")), 20)
        outbox.enqueue(outbox.report_failure(row.pk, failure + (f" (Twilio error {code})" if code else "")))
        return
    status = message_status or call_status
    if status:
        outbox.report_status(row.pk, f"{'SMS' if message_status else 'Call'} {status}")


def keypress(*, row: Delivery, digits: str) -> str:
    """What a key pressed on a page call does; the sentence to say back."""
    incident = row.incident
    if incident is None or row.user is None:
        return ""
    try:
        grant = grant_for(incident_id=incident.pk, user_id=row.user_id)
        if digits == "1":
            services.notifications_act(incident=grant.incident, person=grant.user, verb="acknowledge", via="phone call")
            return "Acknowledged. Goodbye."
        if digits == "2":
            escalate_now(incident=grant.incident, by=grant.user)
            timeline_record(incident=grant.incident, kind="notification.escalate_now", by=grant.user,
                            message=f"{grant.user.get_full_name() or grant.user.get_username()} asked to escalate now, by phone.",
                            dispatch=False)
            return "Escalating to the next level now. Goodbye."
    except (AckNotAllowed, InvalidAckLink) as exc:
        return str(exc)
    except DomainError as exc:
        return exc.message
    return ""
