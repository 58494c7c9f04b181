"""Subscribing: email with double opt-in, webhooks, unsubscribing. Rate-limited per client."""

from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from delivery import netguard
from incidents.exceptions import InvalidInput

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


def subscriber_unsubscribe(*, subscriber: Subscriber) -> bool:
    return bool(Subscriber.objects.filter(pk=subscriber.pk, unsubscribed_at__isnull=True).update(unsubscribed_at=timezone.now()))
