"""Twilio's webhooks (inbound SMS, call scripts and keypresses, status callbacks) and the
person page's phone verification.

The webhooks are public URLs: each request must carry a valid `X-Twilio-Signature` over the URL
Twilio called (settings.SITE_URL + the path) and its form parameters, computed with the account's
auth token (the library's RequestValidator); anything else is refused with a 403 and logged.
What Twilio sends is hostile input: unknown deliveries, odd statuses or bodies are answered
with empty TwiML, never a 5xx."""

import logging

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from delivery import safetext
from incidents.exceptions import DomainError

from . import phones
from .views import _method_or_403

security_log = logging.getLogger("portal.security")
VOICE = "Polly.Joanna"
GATHER_PROMPT = "Press 1 to acknowledge. Press 2 to escalate now. Press 3 to hear this again."


def _signed(request) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not settings.TWILIO_AUTH_TOKEN or not signature:
        return False
    url = settings.SITE_URL + request.get_full_path()
    try:
        return RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, request.POST, signature)
    except (ValueError, TypeError, UnicodeError):
        return False


def _refused(request) -> HttpResponse:
    security_log.warning("twilio webhook refused (missing or wrong X-Twilio-Signature): %s from %s",
                         safetext.line(request.path, 300), request.META.get("REMOTE_ADDR", ""))
    return HttpResponse("Forbidden: not signed by Twilio.\n", status=403, content_type="text/plain")


def _twiml(response) -> HttpResponse:
    return HttpResponse(str(response), content_type="text/xml; charset=utf-8")


def twilio_webhook(view):
    """POST only, CSRF-exempt (Twilio has no session), signature checked first."""

    @csrf_exempt
    @never_cache
    def wrapped(request, *args, **kwargs):
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "POST"})
        if not _signed(request):
            return _refused(request)
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@twilio_webhook
def twilio_sms(request):
    """An SMS to the portal's number: STOP / START / HELP, or a reply code."""
    answer = phones.sms_inbound(sender=request.POST.get("From", ""), body=request.POST.get("Body", ""))
    response = MessagingResponse()
    if answer.text:
        response.message(answer.text)
    return _twiml(response)


@twilio_webhook
def twilio_status(request, public_id):
    """A status callback for one delivery (SMS or call)."""
    row = phones.paging_row(public_id)
    if row is not None:
        phones.status_callback(row=row, params=request.POST)
    return HttpResponse(status=204)


def _say(response, text: str) -> None:
    response.say(safetext.line(text, 500), voice=VOICE)


@twilio_webhook
def twilio_voice(request, public_id):
    """A page call's script: read the message, take a keypress (1 acknowledge, 2 escalate now,
    3 repeat); a call answered by a machine leaves a short message and counts as not reached."""
    response = VoiceResponse()
    row = phones.paging_row(public_id)
    if row is None:
        _say(response, "This page is no longer available. Goodbye.")
        response.hangup()
        return _twiml(response)
    answered_by = request.POST.get("AnsweredBy", "").lower()
    if answered_by.startswith("machine") or answered_by == "fax":
        phones.status_callback(row=row, params=request.POST)
        _say(response, f"This is the incident portal. {row.title}. Please check the portal.")
        response.hangup()
        return _twiml(response)
    digits = safetext.line(request.POST.get("Digits", ""), 5)
    if digits in ("1", "2"):
        said = phones.keypress(row=row, digits=digits)
        if said:
            _say(response, said)
            response.hangup()
            return _twiml(response)
    message = row.message
    text = "This is the incident portal. " + message.get("title", "")
    if message.get("severity"):
        text += f". Severity {message['severity']}"
    if message.get("kind") in ("verify", "test") and message.get("body"):
        text += ". " + message["body"]
    if row.incident_id is None:
        _say(response, text)
        response.hangup()
        return _twiml(response)
    names = list(row.incident.services.values_list("name", flat=True)[:3])
    if names:
        text += f". Service {', '.join(names)}"
    gather = response.gather(num_digits=1, action=settings.SITE_URL + request.path, method="POST", timeout=8)
    gather.say(safetext.line(text, 800) + ". " + GATHER_PROMPT, voice=VOICE)
    _say(response, "No key pressed. Goodbye.")
    return _twiml(response)


# --- verification on the person page ------------------------------------------------------------


@require_POST
def method_verify(request, public_id):
    """Send a code ("send" in the form) or check the typed one ("code")."""
    method = _method_or_403(request, public_id)
    anchor = f"{redirect('notifications:person', user_id=method.user_id).url}#method-{method.public_id}"
    try:
        if "code" in request.POST:
            phones.verify_confirm(method=method, code=request.POST.get("code", ""), by=request.user)
            messages.success(request, f"{method.target} is verified: it can be paged now.")
        else:
            phones.verify_start(method=method, by=request.user)
            how = "texted" if method.kind == "sms" else "read out by a call"
            messages.success(request, f"A code is being {how} to {method.target}. Enter it below.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(anchor)
