"""Subscribing: email with double opt-in, webhooks, unsubscribing. Rate-limited per client.
Support adds, edits and removes subscribers through the same checks (`subscriber_add`...), each
with an audit entry."""

from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from delivery import netguard
from incidents.audit import audit_record
from incidents.exceptions import InvalidInput
from incidents.model_update import model_update

from . import notify
from .models import StatusComponent, Subscriber


def rate_limited(client: str) -> bool:
    """True when this client has used up its subscription attempts for the hour."""
    limit = settings.STATUSPAGE_SUBSCRIBE_LIMIT_PER_HOUR
    key = f"statuspage:subscribe-rate:{client}"
    cache.add(key, 0, 3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, 3600)
        count = 1
    return count > limit


@transaction.atomic
def subscribe_email(*, email: str, components: Iterable[StatusComponent] = ()) -> Subscriber:
    """A pending subscription and its confirmation email. Asking again for a live address answers
    the same way (so the form does not reveal who is subscribed) and sends nothing new."""
    email = (email or "").strip().lower()
    if not email:
        raise InvalidInput("Enter an email address.", field="email")
    existing = Subscriber.objects.select_for_update().filter(kind=Subscriber.Kind.EMAIL, email=email, unsubscribed_at__isnull=True).first()
    if existing is not None:
        if existing.confirmed_at is None:
            existing.components.set(list(components))
        return existing
    subscriber = Subscriber.objects.create(kind=Subscriber.Kind.EMAIL, email=email)
    subscriber.components.set(list(components))
    notify.confirmation_row(subscriber)
    return subscriber


@transaction.atomic
def subscribe_webhook(*, endpoint: str, components: Iterable[StatusComponent] = ()) -> Subscriber:
    """A pending subscription and its confirmation request to the endpoint: nothing else is sent
    to it until it echoes the request's token or someone opens the request's confirm_url."""
    try:
        netguard.check_url(endpoint)  # the guard every outgoing webhook goes through
    except netguard.UnsafeURL as exc:
        raise InvalidInput(str(exc), field="endpoint") from exc
    existing = Subscriber.objects.filter(kind=Subscriber.Kind.WEBHOOK, endpoint=endpoint, unsubscribed_at__isnull=True).first()
    if existing is not None:
        return existing
    subscriber = Subscriber.objects.create(kind=Subscriber.Kind.WEBHOOK, endpoint=endpoint)
    subscriber.components.set(list(components))
    notify.confirmation_row(subscriber)
    return subscriber


@transaction.atomic
def subscriber_unsubscribe(*, subscriber: Subscriber, by=None) -> bool:
    """The subscriber's own link (nobody to name), or support (audited)."""
    done = bool(Subscriber.objects.filter(pk=subscriber.pk, unsubscribed_at__isnull=True).update(unsubscribed_at=timezone.now()))
    if done:
        audit_record(by=by, obj=subscriber, action="changed", message="Unsubscribed.")
    return done


# --- support's hand: the same checks, audited -------------------------------------------------

SUBSCRIBER_FIELDS = ("components",)  # where it goes is fixed: a new address or endpoint subscribes again


@transaction.atomic
def subscriber_add(*, by, kind: str, email: str = "", endpoint: str = "", components: Iterable[StatusComponent] = ()) -> Subscriber:
    """A subscription made for someone: double opt-in as from the public page (the confirmation
    goes out; nothing else is sent until it is confirmed)."""
    live = Subscriber.objects.filter(unsubscribed_at__isnull=True)
    if kind == Subscriber.Kind.EMAIL and live.filter(kind=kind, email=(email or "").strip().lower()).exists():
        raise InvalidInput("That address is subscribed already.", field="email")
    if kind == Subscriber.Kind.WEBHOOK and live.filter(kind=kind, endpoint=(endpoint or "").strip()).exists():
        raise InvalidInput("That endpoint is subscribed already.", field="endpoint")
    if kind == Subscriber.Kind.EMAIL:
        subscriber = subscribe_email(email=email, components=components)
    elif kind == Subscriber.Kind.WEBHOOK:
        if not (endpoint or "").strip():
            raise InvalidInput("Enter the webhook's address.", field="endpoint")
        subscriber = subscribe_webhook(endpoint=endpoint.strip(), components=components)
    else:
        raise InvalidInput("Choose email or webhook.", field="kind")
    audit_record(by=by, obj=subscriber, action="added", message=f"{subscriber.get_kind_display()}, confirmation sent")
    return subscriber


@transaction.atomic
def subscriber_update(*, subscriber: Subscriber, by, **fields) -> Subscriber:
    changes = model_update(instance=subscriber, fields=SUBSCRIBER_FIELDS, data=fields)
    if changes:
        audit_record(by=by, obj=subscriber, action="changed", message=changes.describe())
    return subscriber


@transaction.atomic
def subscriber_delete(*, subscriber: Subscriber, by) -> None:
    """Removed (someone asked to be): the audit entry names the address it was for; past messages
    stay as delivery rows."""
    audit_record(by=by, obj=subscriber, action="deleted")
    subscriber.delete()
