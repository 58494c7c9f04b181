"""SMS and voice calls through Twilio, with the official `twilio` library.

Credentials come from settings (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, and TWILIO_FROM_NUMBER or
TWILIO_MESSAGING_SERVICE_SID); TWILIO_API_BASE points the REST client at another base URL (a
region or edge, or a compatible gateway); the library's own TWILIO_REGION / TWILIO_EDGE work too.
Targets are phone numbers normalised to E.164 (`phonenumbers`), limited to
settings.PHONE_ALLOWED_COUNTRY_CODES when set.

An SMS page says how to answer it ("Reply 4 17 to acknowledge INC-…, 6 17 to resolve": the
message's `reply_code`); a call fetches its script (TwiML) from the message's `twiml` action URL
and reports to its `status` URL, both portal URLs that check Twilio's signature. Both channels
are `costly`: the paging purpose holds them to the phone rate limits."""

import re

import phonenumbers
from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from .. import safetext
from ..messages import Message
from .base import Channel, ChannelError, InvalidTarget, Receipt, register

SMS_LIMIT = 600  # characters of an SMS page (Twilio takes 1,600; every 153 more is another segment billed)
INCIDENT_NUMBER = re.compile(r"INC-\d{8}-\d+")
RETRYABLE = (408, 409, 425, 429)


def normalise(number: str) -> str:
    """`number` in E.164 (+441632960961), or InvalidTarget."""
    try:
        parsed = phonenumbers.parse((number or "").strip(), None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidTarget("Enter the number in international form, starting with + and the country code.") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidTarget("That is not a valid phone number.")
    allowed = settings.PHONE_ALLOWED_COUNTRY_CODES
    if allowed and parsed.country_code not in allowed:
        raise InvalidTarget(f"Numbers with country code +{parsed.country_code} are not allowed here "
                            f"(allowed: {', '.join(f'+{c}' for c in allowed)}).")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def configured() -> bool:
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN
                and (settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID))


def client() -> Client:
    if not configured():
        raise ChannelError("Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER).", permanent=True)
    twilio = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN,
                    http_client=TwilioHttpClient(timeout=settings.TWILIO_TIMEOUT_SECONDS))
    if settings.TWILIO_API_BASE:
        twilio.api.base_url = settings.TWILIO_API_BASE.rstrip("/")  # the Api domain: Messages and Calls
    return twilio


def _call(fn, **params):
    try:
        return fn(**params)
    except TwilioRestException as exc:
        permanent = 400 <= exc.status < 500 and exc.status not in RETRYABLE
        raise ChannelError(f"Twilio {exc.status} (code {exc.code}): {exc.msg}"[:500], permanent=permanent,
                           status_code=exc.status) from exc
    except (TwilioException, OSError) as exc:
        raise ChannelError(f"Twilio: {type(exc).__name__}: {exc}"[:500]) from exc
    except Exception as exc:  # requests' connection errors and timeouts
        raise ChannelError(f"Twilio: {type(exc).__name__}: {exc}"[:500]) from exc


def sender() -> dict:
    if settings.TWILIO_MESSAGING_SERVICE_SID:
        return {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
    return {"from_": settings.TWILIO_FROM_NUMBER}


def sms_text(message: Message) -> str:
    """What an SMS says: the headline, how to answer, the link; bounded."""
    lines = [message.headline]
    if message.reply_code:
        found = INCIDENT_NUMBER.search(message.title)
        ref = found.group(0) if found else "it"
        lines.append(f"Reply 4 {message.reply_code} to acknowledge {ref}, 6 {message.reply_code} to resolve.")
    if message.body and message.kind in ("verify", "test"):
        lines.append(message.body)
    if message.url:
        lines.append(message.url)
    return safetext.truncate("\n".join(lines), SMS_LIMIT)


class PhoneChannel(Channel):
    costly = True  # every message is billed: phone rate limits apply

    @classmethod
    def clean_target(cls, target: str) -> str:
        return normalise(target)


@register
class SmsChannel(PhoneChannel):
    kind = "sms"
    label = "SMS"
    takes_replies = True

    def send(self, message: Message) -> Receipt:
        params = {"to": self.destination.target, "body": sms_text(message), **sender()}
        if message.actions.get("status"):
            params["status_callback"] = message.actions["status"]
        sent = _call(client().messages.create, **params)
        return Receipt(201, f"{sent.sid} {sent.status}")


@register
class VoiceChannel(PhoneChannel):
    kind = "voice"
    label = "Voice call"
    takes_replies = False

    def send(self, message: Message) -> Receipt:
        twiml = message.actions.get("twiml")
        if not twiml:
            raise ChannelError("No script URL for the call.", permanent=True)
        params = {"to": self.destination.target, "from_": settings.TWILIO_FROM_NUMBER, "url": twiml, "method": "POST",
                  "machine_detection": "Enable", "timeout": 30}
        if not settings.TWILIO_FROM_NUMBER:
            raise ChannelError("Calls need TWILIO_FROM_NUMBER (a messaging service cannot call).", permanent=True)
        if message.actions.get("status"):
            params.update(status_callback=message.actions["status"], status_callback_method="POST",
                          status_callback_event=["initiated", "ringing", "answered", "completed"])
        sent = _call(client().calls.create, **params)
        return Receipt(201, f"{sent.sid} {sent.status}")
