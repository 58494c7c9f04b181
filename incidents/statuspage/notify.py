"""Subscriber messages: what the status page tells its subscribers, as rows of the one delivery
layer (purpose `statuspage`, see `incidents.statuspage.purposes` for how they are sent).

Each message is built once per event as a `delivery.messages.Message` carrying both forms: the
email (template `statuspage_<name>` and its context, `delivery.emails`) and the webhook document
in Atlassian Statuspage's format (`data`). One row per (subscriber, key) under the delivery
layer's unique key; the subscriber's kind picks the channel (`CHANNELS`), which sends the form it
knows. The per-subscriber parts (a fresh signed unsubscribe link, the List-Unsubscribe headers,
the webhook's `meta`) are added when the row is sent, so a retried message never carries an
expired link.
"""

import re
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.db.models import Q
from django.urls import reverse
from django.utils import dateformat, timezone

from delivery import outbox, safetext
from delivery.messages import Message
from incidents.markdown import render_markdown
from incidents.models import Maintenance, StatusUpdate

from .documents import component_doc, incident_doc, maintenance_doc, status_doc
from .models import PageSettings, StatusComponent, Subscriber
from .selectors import incident_by_code, maintenances_public, snapshot

PURPOSE = "statuspage"
# The channel (delivery.channels) each kind of subscriber is sent through.
CHANNELS = {Subscriber.Kind.EMAIL: "email", Subscriber.Kind.WEBHOOK: "statuspage_webhook"}
CONFIRM = "confirm"  # Delivery.kind of the double opt-in message; every other message is ""
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


_TOKEN_LIKE = re.compile(r"\.?[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+")


def webhook_echo_confirms(subscriber: Subscriber, answer: str) -> bool:
    """True when `answer` (a response body) holds a valid confirmation token of this subscriber."""
    return any(
        (found := read_token(candidate, "confirm")) is not None and found.pk == subscriber.pk
        for candidate in _TOKEN_LIKE.findall(answer or "")[:20]
    )


def subscriber_confirm(*, subscriber: Subscriber) -> bool:
    return bool(Subscriber.objects.filter(pk=subscriber.pk, confirmed_at__isnull=True, unsubscribed_at__isnull=True).update(confirmed_at=timezone.now()))


def masked_target(subscriber: Subscriber) -> str:
    """Where a row goes, as pages show it: the address, or the webhook's host only (its path and
    query may carry a credential)."""
    if subscriber.kind == Subscriber.Kind.EMAIL:
        return subscriber.email
    parts = urlsplit(subscriber.endpoint)
    return f"{parts.scheme}://{parts.hostname or ''}/…"


# --- building rows -------------------------------------------------------------------------------


def _page() -> PageSettings:
    return PageSettings.objects.order_by("pk").first() or PageSettings.objects.get_or_create(pk=1)[0]


def _page_context(page: PageSettings) -> dict:
    return {"name": page.name, "brand_colour": page.brand_colour}


def _stamp(value: datetime) -> str:
    return dateformat.format(timezone.localtime(value), "M j, Y H:i")


def _queue(subscribers, *, key: str, message: Message, kind: str = "", incident_id: int | None = None) -> int:
    """One row per subscriber that has none for `key` yet, sent after commit."""
    rows = [
        outbox.create(purpose=PURPOSE, channel=CHANNELS[sub.kind], target=masked_target(sub), dedup_key=key,
                      destination_id=sub.pk, message=message, kind=kind, incident_id=incident_id)
        for sub in subscribers
    ]
    rows = [r for r in rows if r is not None]  # None: built already by an earlier delivery of the same event
    outbox.enqueue_on_commit(rows)
    return len(rows)


def _audience(component_ids: set[int], kinds=None):
    qs = Subscriber.objects.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    if component_ids:
        qs = qs.filter(Q(components__isnull=True) | Q(components__in=component_ids)).distinct()
    return list(qs)


def _page_status(snap) -> dict:
    status = status_doc(snap)
    return {"id": snap.page.code, "status_indicator": status["indicator"], "status_description": status["description"]}


def confirmation_row(subscriber: Subscriber) -> int:
    """The double opt-in: an email with a confirmation link, or, for a webhook, a POST carrying a
    signed token that the endpoint echoes in its 2xx answer (or whose confirm_url someone opens)."""
    page = _page()
    token = make_token(subscriber, "confirm")
    link = absolute(reverse("statuspage:confirm", args=[token]))
    message = Message(
        kind=CONFIRM, title=f"[{page.name}] Confirm your subscription", body="", template="statuspage_confirm",
        context={"page": _page_context(page), "confirm_url": link},
        data={
            "page": {"id": page.code, "name": page.name},
            "subscription_confirmation": {
                "token": token, "confirm_url": link, "endpoint": subscriber.endpoint,
                "instructions": "Answer this POST with a 2xx whose body contains the token (e.g. {\"token\": \"...\"}), "
                                "or open confirm_url, to start receiving updates.",
            },
        },
    )
    return _queue([subscriber], key=CONFIRM, message=message, kind=CONFIRM)


def _update_message(*, title: str, status: str, body: str, link: str, at: datetime, components: list, page: PageSettings,
                    data: dict, window: tuple[datetime, datetime] | None = None) -> Message:
    return Message(
        kind="update", title=f"[{page.name}] {title}: {status}", body=body, url=link, template="statuspage_update",
        context={
            "page": _page_context(page), "title": safetext.line(title), "status": status, "body_html": render_markdown(body), "link": link, "at": _stamp(at),
            "components": [{"name": c["name"]} for c in components],
            "window": [_stamp(window[0]), _stamp(window[1])] if window else None,
        },
        data=data,
    )


def fan_out_update(update: StatusUpdate) -> int:
    """Every active subscriber of the incident's components (all, if it names none) gets the update."""
    pub = getattr(update.incident, "public", None)
    if pub is None:
        return 0
    pub = incident_by_code(pub.code)
    component_ids = {i.component_id for i in pub.incident.impacts}
    snap = snapshot()
    doc = incident_doc(pub, snap.page)
    status_label = dict(StatusUpdate._meta.get_field("status").choices).get(update.status, update.status)
    message = _update_message(
        title=pub.name, status=status_label, body=update.body, link=absolute(reverse("statuspage:incident", args=[pub.code])),
        at=update.created_at, components=doc["components"], page=snap.page, data={"page": _page_status(snap), "incident": doc},
    )
    return _queue(_audience(component_ids), key=f"update:{update.pk}", message=message, incident_id=update.incident_id)


def fan_out_maintenance_update(maintenance: Maintenance, update) -> int:
    if not maintenance.public:
        return 0
    snap = snapshot()
    m = maintenances_public().get(pk=maintenance.pk)
    doc = maintenance_doc(m, snap.page, {c.pk: c for c in StatusComponent.objects.select_related("group")})
    component_ids = set(StatusComponent.objects.filter(service__maintenances=maintenance).values_list("pk", flat=True))
    message = _update_message(
        title=maintenance.title, status=update.status.replace("_", " ").capitalize(), body=update.body,
        link=absolute(reverse("statuspage:maintenance", args=[m.statuspage.code])), at=update.created_at,
        components=doc["components"], page=snap.page, window=(maintenance.scheduled_for, maintenance.scheduled_until),
        data={"page": _page_status(snap), "incident": doc},
    )
    return _queue(_audience(component_ids), key=f"maintenance:{update.pk}", message=message)


def fan_out_component_changes(changes: list[tuple[StatusComponent, str, str]], now: datetime) -> int:
    """Webhook subscribers get Statuspage's component_update payload for each state change."""
    if not Subscriber.objects.filter(kind=Subscriber.Kind.WEBHOOK, confirmed_at__isnull=False, unsubscribed_at__isnull=True).exists():
        return 0
    page = _page()
    made = 0
    for component, old, new in changes:
        component = StatusComponent.objects.select_related("group").get(pk=component.pk)
        message = Message(kind="component_update", title=f"{component.name}: {new}", body="", data={
            "page": {"id": page.code},
            "component_update": {
                "created_at": now.isoformat(), "new_status": new, "old_status": old,
                "id": f"{component.code}{int(now.timestamp())}", "component_id": component.code,
            },
            "component": component_doc(component, page),
        })
        made += _queue(_audience({component.pk}, kinds=[Subscriber.Kind.WEBHOOK]),
                       key=f"component:{component.code}:{now.timestamp():.6f}", message=message)
    return made
