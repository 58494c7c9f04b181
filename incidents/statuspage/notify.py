"""Subscriber messages: built once as rows (durable), delivered by the workers.

One Notification row per (subscriber, key) under a unique constraint, moved pending -> sending
-> sent/failed by conditional updates, so a duplicate task or a sweep never sends twice.
Emails go through Django's email backend, webhooks are Statuspage-format JSON POSTs. Text is
made safe as the row is built and again as it is sent (`delivery.safetext`): one-line bounded
subjects, bodies without NUL or control characters, JSON that always encodes; an email that
cannot be built fails for good at once instead of being retried.
"""

import json
import logging
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from delivery import netguard, safetext
from incidents.markdown import render_markdown
from incidents.models import Maintenance, StatusUpdate

from .documents import component_doc, incident_doc, maintenance_doc, status_doc
from .models import ComponentStatus, Notification, PageSettings, StatusComponent, Subscriber
from .queue import deliver_notification_later
from .selectors import incident_by_code, maintenances_public, snapshot

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
SUBJECT_LIMIT = 200
BODY_LIMIT = 100_000
TOKEN_SALT = "statuspage.subscriber"
DOCS_URL = "https://support.atlassian.com/statuspage/docs/enable-webhook-notifications/"


# --- signed, expiring tokens -----------------------------------------------------------------


def make_token(subscriber: Subscriber, action: str) -> str:
    return signing.dumps({"s": subscriber.code, "a": action}, salt=TOKEN_SALT, compress=True)


def read_token(token: str, action: str) -> Subscriber | None:
    max_age = settings.STATUSPAGE_CONFIRM_MAX_AGE if action == "confirm" else settings.STATUSPAGE_UNSUBSCRIBE_MAX_AGE
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=max_age)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("a") != action:
        return None
    return Subscriber.objects.filter(code=data.get("s")).first()


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def unsubscribe_url(subscriber: Subscriber) -> str:
    return absolute(reverse("statuspage:unsubscribe", args=[make_token(subscriber, "unsubscribe")]))


def confirm_url(subscriber: Subscriber) -> str:
    return absolute(reverse("statuspage:confirm", args=[make_token(subscriber, "confirm")]))


# --- building rows -------------------------------------------------------------------------------


def _page() -> PageSettings:
    return PageSettings.objects.order_by("pk").first() or PageSettings.objects.get_or_create(pk=1)[0]


def _queue_rows(rows: list[Notification]) -> int:
    """Insert rows that do not exist yet; deliver them after commit."""
    created = []
    for row in rows:
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:  # already built by an earlier delivery of the same event
            continue
        created.append(row.pk)
    deliver_notification_later.enqueue_many([({"notification_id": pk}, None) for pk in created])
    return len(created)


def _audience(component_ids: set[int], kinds=None):
    qs = Subscriber.objects.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    if component_ids:
        qs = qs.filter(Q(components__isnull=True) | Q(components__in=component_ids)).distinct()
    return list(qs)


def _email_row(subscriber: Subscriber, key: str, subject: str, template: str, context: dict) -> Notification:
    ctx = {**context, "page": _page(), "unsubscribe_url": unsubscribe_url(subscriber), "subscriber": subscriber}
    return Notification(
        subscriber=subscriber, key=key, subject=safetext.line(subject, SUBJECT_LIMIT),
        text=safetext.text(render_to_string(f"statuspage/email/{template}.txt", ctx), BODY_LIMIT),
        html=safetext.text(render_to_string(f"statuspage/email/{template}.html", ctx), BODY_LIMIT * 2),
        next_attempt_at=timezone.now(),
    )


def _webhook_row(subscriber: Subscriber, key: str, body: dict) -> Notification:
    payload = {"meta": {"unsubscribe": unsubscribe_url(subscriber), "documentation": DOCS_URL}, **body}
    return Notification(subscriber=subscriber, key=key, payload=safetext.json_safe(payload), next_attempt_at=timezone.now())


def _page_status() -> dict:
    snap = snapshot()
    status = status_doc(snap)
    return {"snap": snap, "page": {"id": snap.page.code, "status_indicator": status["indicator"], "status_description": status["description"]}}


def confirmation_row(subscriber: Subscriber) -> int:
    """The double opt-in: an email with a confirmation link, or, for a webhook, a POST carrying a
    signed token that the endpoint echoes in its 2xx answer (or whose confirm_url someone opens)."""
    page = _page()
    if subscriber.kind == Subscriber.Kind.WEBHOOK:
        token = make_token(subscriber, "confirm")
        row = _webhook_row(subscriber, "confirm", {
            "page": {"id": page.code, "name": page.name},
            "subscription_confirmation": {
                "token": token, "confirm_url": absolute(reverse("statuspage:confirm", args=[token])), "endpoint": subscriber.endpoint,
                "instructions": "Answer this POST with a 2xx whose body contains the token (e.g. {\"token\": \"...\"}), "
                                "or open confirm_url, to start receiving updates.",
            },
        })
    else:
        row = _email_row(subscriber, "confirm", f"[{page.name}] Confirm your subscription", "confirm", {"confirm_url": confirm_url(subscriber)})
    return _queue_rows([row])


_TOKEN_LIKE = re.compile(r"\.?[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+")


def webhook_echo_confirms(subscriber: Subscriber, answer: str) -> bool:
    """True when `answer` (a response body) holds a valid confirmation token of this subscriber."""
    return any(
        (found := read_token(candidate, "confirm")) is not None and found.pk == subscriber.pk
        for candidate in _TOKEN_LIKE.findall(answer or "")[:20]
    )


def subscriber_confirm(*, subscriber: Subscriber) -> bool:
    return bool(Subscriber.objects.filter(pk=subscriber.pk, confirmed_at__isnull=True, unsubscribed_at__isnull=True).update(confirmed_at=timezone.now()))


def fan_out_update(update: StatusUpdate) -> int:
    """Every active subscriber of the incident's components (all, if it names none) gets the update."""
    pub = getattr(update.incident, "public", None)
    if pub is None:
        return 0
    pub = incident_by_code(pub.code)
    component_ids = {i.component_id for i in pub.incident.impacts}
    ctx = _page_status()
    doc = incident_doc(pub, ctx["snap"].page)
    page = ctx["snap"].page
    status_label = dict(StatusUpdate._meta.get_field("status").choices).get(update.status, update.status)
    subject = f"[{page.name}] {pub.name}: {status_label}"
    link = absolute(reverse("statuspage:incident", args=[pub.code]))
    rows = []
    for sub in _audience(component_ids):
        key = f"update:{update.pk}"
        if sub.kind == Subscriber.Kind.EMAIL:
            rows.append(_email_row(sub, key, subject, "update", {
                "title": safetext.line(pub.name), "status": status_label, "body": update.body, "body_html": render_markdown(update.body),
                "link": link, "at": update.created_at, "components": doc["components"],
            }))
        else:
            rows.append(_webhook_row(sub, key, {"page": ctx["page"], "incident": doc}))
    return _queue_rows(rows)


def fan_out_maintenance_update(maintenance: Maintenance, update) -> int:
    if not maintenance.public:
        return 0
    ctx = _page_status()
    snap = ctx["snap"]
    m = maintenances_public().get(pk=maintenance.pk)
    doc = maintenance_doc(m, snap.page, {c.pk: c for c in StatusComponent.objects.select_related("group")})
    component_ids = set(StatusComponent.objects.filter(service__maintenances=maintenance).values_list("pk", flat=True))
    label = update.status.replace("_", " ").capitalize()
    subject = f"[{snap.page.name}] {maintenance.title}: {label}"
    link = absolute(reverse("statuspage:maintenance", args=[m.statuspage.code]))
    rows = []
    for sub in _audience(component_ids):
        key = f"maintenance:{update.pk}"
        if sub.kind == Subscriber.Kind.EMAIL:
            rows.append(_email_row(sub, key, subject, "update", {
                "title": safetext.line(maintenance.title), "status": label, "body": update.body, "body_html": render_markdown(update.body),
                "link": link, "at": update.created_at, "components": doc["components"],
                "window": (maintenance.scheduled_for, maintenance.scheduled_until),
            }))
        else:
            rows.append(_webhook_row(sub, key, {"page": ctx["page"], "incident": doc}))
    return _queue_rows(rows)


def fan_out_component_changes(changes: list[tuple[StatusComponent, str, str]], now: datetime) -> int:
    """Webhook subscribers get Statuspage's component_update payload for each state change."""
    if not Subscriber.objects.filter(kind=Subscriber.Kind.WEBHOOK, confirmed_at__isnull=False, unsubscribed_at__isnull=True).exists():
        return 0
    page = _page()
    rows = []
    for component, old, new in changes:
        component = StatusComponent.objects.select_related("group").get(pk=component.pk)
        body = {
            "page": {"id": page.code},
            "component_update": {
                "created_at": now.isoformat(), "new_status": new, "old_status": old,
                "id": f"{component.code}{int(now.timestamp())}", "component_id": component.code,
            },
            "component": component_doc(component, page),
        }
        for sub in _audience({component.pk}, kinds=[Subscriber.Kind.WEBHOOK]):
            rows.append(_webhook_row(sub, f"component:{component.code}:{now.timestamp():.6f}", body))
    return _queue_rows(rows)


# --- delivering --------------------------------------------------------------------------------


class DeliveryError(Exception):
    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


def build_email(n: Notification) -> EmailMultiAlternatives:
    """The subscriber's email, headers and all; DeliveryError(permanent) when it cannot be built."""
    sub = n.subscriber
    try:
        msg = EmailMultiAlternatives(
            subject=safetext.line(n.subject, SUBJECT_LIMIT), body=safetext.text(n.text, BODY_LIMIT), to=[sub.email],
            headers={"List-Unsubscribe": f"<{unsubscribe_url(sub)}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                     "Auto-Submitted": "auto-generated"},
        )
        if n.html:
            msg.attach_alternative(safetext.text(n.html, BODY_LIMIT * 2), "text/html")
        msg.message()
    except Exception as exc:
        raise DeliveryError(f"Could not build the email: {type(exc).__name__}: {exc}", permanent=True) from exc
    return msg


def _send_email(n: Notification) -> None:
    msg = build_email(n)
    msg.connection = get_connection(timeout=settings.EMAIL_TIMEOUT)
    try:
        msg.send()
    except Exception as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc


def webhook_body(n: Notification) -> bytes:
    return json.dumps(safetext.json_safe(n.payload), ensure_ascii=False).encode()


def _send_webhook(n: Notification) -> str:
    """Checked and connected to the checked address only (a DNS answer that changes after the
    check cannot redirect it), no redirects, bounded by WEBHOOK_TIMEOUT_SECONDS. Returns the
    start of the answer."""
    try:
        _status, answer = netguard.post(n.subscriber.endpoint, webhook_body(n),
                                        {"Content-Type": "application/json", "User-Agent": "IncidentPortal-StatusPage/1"})
    except netguard.SendError as exc:
        raise DeliveryError(exc.message, permanent=exc.permanent) from exc
    return answer


def deliver(notification_id: int, *, now: datetime | None = None) -> str | None:
    """Claim one due row and send it; returns the new state, or None when there was nothing to do."""
    now = now or timezone.now()
    claimed = Notification.objects.filter(pk=notification_id, state=Notification.State.PENDING, next_attempt_at__lte=now).update(
        state=Notification.State.SENDING, attempts=F("attempts") + 1, next_attempt_at=now
    )
    if not claimed:
        return None
    n = Notification.objects.select_related("subscriber").get(pk=notification_id)
    sub = n.subscriber
    try:
        if sub.unsubscribed_at is not None:
            raise DeliveryError("unsubscribed", permanent=True)
        if n.key != "confirm" and sub.confirmed_at is None:
            raise DeliveryError("not confirmed", permanent=True)
        if sub.kind == Subscriber.Kind.EMAIL:
            _send_email(n)
        else:
            answer = _send_webhook(n)
            if n.key == "confirm" and webhook_echo_confirms(sub, answer):
                subscriber_confirm(subscriber=sub)
    except DeliveryError as exc:
        final = exc.permanent or n.attempts >= MAX_ATTEMPTS
        state = Notification.State.FAILED if final else Notification.State.PENDING
        backoff = timedelta(seconds=min(30 * 2 ** (n.attempts - 1), 3600))
        Notification.objects.filter(pk=n.pk, state=Notification.State.SENDING).update(
            state=state, last_error=safetext.text(str(exc), 2000), next_attempt_at=timezone.now() + backoff
        )
        logger.warning("status page notification %s to %s failed (%s)", n.pk, sub, safetext.line(str(exc), 300))
        return state
    Notification.objects.filter(pk=n.pk, state=Notification.State.SENDING).update(state=Notification.State.SENT, sent_at=timezone.now(), last_error="")
    return Notification.State.SENT


def component_label(status: str) -> str:
    return ComponentStatus(status).label
