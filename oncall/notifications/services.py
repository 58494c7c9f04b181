"""Notification state changes: paging a person, contact methods and rules, test sends.

`notify_user` is what the escalation engine calls. It writes one `Notification` row per
(dedup_key, contact method, rule step) in the caller's transaction and hands the due ones to the
worker after commit; delivery itself is in `delivery.py`."""

import hashlib
import logging
import threading
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from delivery.channels import ChannelError, InvalidTarget, channel_class
from delivery.messages import Message
from incidents.audit import audit_record
from incidents.exceptions import InvalidInput

from . import tasks
from .models import (
    SUBSCRIPTION_KINDS,
    ChannelKind,
    ContactMethod,
    Notification,
    NotificationRule,
    NotificationStatus,
    StakeholderSubscription,
    new_webhook_secret,
)

logger = logging.getLogger(__name__)
KEY_MAX = Notification._meta.get_field("dedup_key").max_length


# --- enqueueing ----------------------------------------------------------------------------


def enqueue_delivery(notification_id: int, due_at=None) -> None:
    """The fast path: an ETA task at the due time (delivery.durable: after commit, within the
    horizon; what the broker refuses is the sweep's)."""
    tasks.notification_deliver_task.enqueue(notification_id=notification_id, eta=due_at)


def enqueue_many(pairs) -> None:
    for pk, due_at in pairs:
        enqueue_delivery(pk, due_at)


_inline = threading.local()


@contextmanager
def deliver_inline():
    """Inside this block (a worker task such as the escalation step), rows due now are sent by
    this thread right after the commit instead of through a second broker message. Measured:
    with 1,000 steps due in 20 s, the delivery tasks queued behind the steps' ETA tasks (the
    pool stays full of them) and the pages went out only once the steps ran dry, 20-40 s late."""
    previous = getattr(_inline, "on", False)
    _inline.on = True
    try:
        yield
    finally:
        _inline.on = previous


def _send_now(rows: list[Notification]) -> None:
    from . import delivery  # delivery imports this module

    now = timezone.now()
    for row in rows:
        if row.due_at is not None and row.due_at > now:
            enqueue_delivery(row.pk, row.due_at)
            continue
        try:
            enqueue_many(delivery.deliver(row.pk, row=row))
        except Exception:  # the row is committed: the task (or the sweep) sends it
            logger.exception("notification %s: inline delivery failed; queued instead", row.pk)
            enqueue_delivery(row.pk, row.due_at)


def enqueue_on_commit(rows: list[Notification]) -> None:
    """After commit: send the rows (inline, see `deliver_inline`) or queue them for the worker."""
    rows = list(rows)

    def _enqueue():
        if getattr(_inline, "on", False):
            _send_now(rows)
            return
        for row in rows:
            enqueue_delivery(row.pk, row.due_at)

    if rows:
        transaction.on_commit(_enqueue)


def bounded_key(key: str) -> str:
    """Dedup keys fit the column; a longer one keeps its head and a digest of the whole."""
    if len(key) <= KEY_MAX:
        return key
    return f"{key[:KEY_MAX - 41]}~{hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()}"


def create_notification(**fields) -> Notification | None:
    """Insert one row; None when its dedup key was already used (the unique constraints)."""
    try:
        with transaction.atomic():
            return Notification.objects.create(**fields)
    except IntegrityError:
        return None


# --- paging a person -----------------------------------------------------------------------


def notification_plan(user) -> list[tuple[ContactMethod, int]]:
    """(contact method, delay in minutes) for the user's active methods, per their rules.
    A user without rules gets every active method at once; a user with no contact method at
    all gets one for their account email (the rule `selectors.unreachable` reports on)."""
    rules = list(
        NotificationRule.objects.filter(user=user, contact_method__is_active=True, contact_method__user=user)
        .select_related("contact_method").order_by("delay_minutes", "pk")
    )
    if rules:
        return [(rule.contact_method, rule.delay_minutes) for rule in rules]
    methods = list(ContactMethod.objects.filter(user=user, is_active=True).order_by("pk"))
    if not methods and user.email and not ContactMethod.objects.filter(user=user).exists():
        # Never page into the void: someone who set nothing up is reached at their account email
        # (a real, visible contact method they can change). Disabled methods are respected.
        methods = [contact_method_create(user=user, kind=ChannelKind.EMAIL, target=user.email, label="Account email (added automatically)")]
    if not methods:
        logger.warning("user %s has no active contact method: nothing sent", user.pk)
    return [(method, 0) for method in methods]


def notify_user(*, user, message: Message, dedup_key: str) -> list[Notification]:
    """Fan `message` out to `user`'s contact methods according to their notification rules.

    Idempotent on `dedup_key`: a second call with the same key creates nothing and returns [].
    Rows are created in the caller's transaction; sending is enqueued on commit. Delayed steps
    of an incident message are cancelled at their due time if the incident was acknowledged."""
    now = timezone.now()
    dedup_key = bounded_key(dedup_key)
    created = []
    with transaction.atomic(savepoint=False):  # all or none; each insert has its own savepoint
        for method, delay in notification_plan(user):
            row = create_notification(
                dedup_key=dedup_key, step=delay, user=user, contact_method=method,
                incident_id=message.incident_id, channel=method.kind, target=method.display_target,
                message=message.as_dict(), cancel_if_acknowledged=bool(delay and message.incident_id),
                due_at=now + timedelta(minutes=delay), max_attempts=settings.NOTIFY_MAX_ATTEMPTS,
            )
            if row is not None:
                created.append(row)
        enqueue_on_commit(created)
    return created


# --- contact methods and rules -------------------------------------------------------------


def validate_target(kind: str, target: str) -> str:
    """The cleaned target for a channel kind (the channel decides: addresses, or a URL through
    the request-forgery guard), or InvalidInput naming the field."""
    try:
        channel = channel_class(kind)
    except ChannelError as exc:
        raise InvalidInput("Choose email, Slack, Teams or webhook.", field="kind") from exc
    try:
        return channel.clean_target((target or "").strip())
    except InvalidTarget as exc:
        raise InvalidInput(str(exc), field="target") from exc


def _clean_rate(count, window) -> None:
    if count is not None and count < 1:
        raise InvalidInput("Allow at least one message per window.", field="rate_limit_count")
    if window is not None and window < timedelta(seconds=10):
        raise InvalidInput("Use a window of at least 10 seconds.", field="rate_limit_window")


@transaction.atomic
def contact_method_create(*, user, kind: str, target: str, label: str = "", rate_limit_count: int | None = None,
                          rate_limit_window: timedelta | None = None, add_default_rule: bool = True, by=None) -> ContactMethod:
    """Validate and save a contact method; the URL guard runs here and again at send time.

    `by` here and below: who, for the audit log. Contact methods and rules are recorded on
    their person (the admin's history of the user): how they are reached is part of paging."""
    target = validate_target(kind, target)
    _clean_rate(rate_limit_count, rate_limit_window)
    fields = {"user": user, "kind": kind, "target": target, "label": label.strip()}
    if rate_limit_count is not None:
        fields["rate_limit_count"] = rate_limit_count
    if rate_limit_window is not None:
        fields["rate_limit_window"] = rate_limit_window
    method = ContactMethod.objects.create(**fields)
    if add_default_rule:
        NotificationRule.objects.create(user=user, contact_method=method, delay_minutes=0)
    audit_record(by=by, obj=user, action="changed", message=f"contact method added: {_method(method)}")
    return method


def _method(method: ContactMethod) -> str:
    return f"{method.get_kind_display()} {method.display_target}" + (f" ({method.label})" if method.label else "")


@transaction.atomic
def contact_method_update(*, method: ContactMethod, by=None, **changes) -> ContactMethod:
    kind = changes.get("kind", method.kind)
    if "target" in changes or "kind" in changes:
        changes["target"] = validate_target(kind, changes.get("target", method.target))
    _clean_rate(changes.get("rate_limit_count"), changes.get("rate_limit_window"))
    for field, value in changes.items():
        setattr(method, field, value.strip() if field == "label" else value)
    method.save()
    audit_record(by=by, obj=method.user, action="changed", message=f"contact method changed ({', '.join(sorted(changes))}): {_method(method)}")
    return method


@transaction.atomic
def contact_method_delete(*, method: ContactMethod, by=None) -> None:
    audit_record(by=by, obj=method.user, action="changed", message=f"contact method deleted: {_method(method)}")
    method.delete()


@transaction.atomic
def contact_method_rotate_secret(*, method: ContactMethod, by=None) -> ContactMethod:
    """A new Standard Webhooks signing secret; the old one stops verifying at once."""
    if method.kind != ChannelKind.WEBHOOK:
        raise InvalidInput("Only generic webhooks are signed; this method has no secret to rotate.", field="kind")
    method.secret = new_webhook_secret()
    method.save(update_fields=["secret"])
    audit_record(by=by, obj=method.user, action="changed", message=f"signing secret rotated: {_method(method)}")
    return method


@transaction.atomic
def notification_rule_create(*, user, contact_method: ContactMethod, delay_minutes: int, by=None) -> NotificationRule:
    if contact_method.user_id != user.pk:
        raise InvalidInput("Choose one of this person's contact methods.", field="contact_method")
    if delay_minutes < 0 or delay_minutes > 24 * 60:
        raise InvalidInput("Use a delay between 0 and 1440 minutes.", field="delay_minutes")
    try:
        with transaction.atomic():
            rule = NotificationRule.objects.create(user=user, contact_method=contact_method, delay_minutes=delay_minutes)
    except IntegrityError as exc:
        raise InvalidInput("That method already has a rule with this delay.", field="delay_minutes") from exc
    audit_record(by=by, obj=user, action="changed", message=f"rule added: {_method(contact_method)} after {delay_minutes} min")
    return rule


@transaction.atomic
def notification_rule_delete(*, rule: NotificationRule, by=None) -> None:
    audit_record(by=by, obj=rule.user, action="changed", message=f"rule deleted: {_method(rule.contact_method)} after {rule.delay_minutes} min")
    rule.delete()


@transaction.atomic
def contact_method_send_test(*, method: ContactMethod, by) -> Notification:
    """Queue a test message to one contact method now (not rate limited away: a fresh key)."""
    name = by.get_full_name() or by.get_username()
    message = Message(
        kind="test", title="Test notification from the incident portal",
        body=f"{name} sent this test to check that this contact method works. No action is needed.",
        url=f"{settings.SITE_URL}/notifications/",
    )
    row = Notification.objects.create(
        dedup_key=f"test:{timezone.now().isoformat()}:{method.pk}", step=0, user=method.user, contact_method=method,
        channel=method.kind, target=method.display_target, message=message.as_dict(), due_at=timezone.now(),
        max_attempts=1,
    )
    enqueue_on_commit([row])
    return row


# --- stakeholder subscriptions -------------------------------------------------------------


@transaction.atomic
def subscription_create(*, name: str, kind: str, target: str, frequency: str, severities=(), by=None) -> StakeholderSubscription:
    if kind not in SUBSCRIPTION_KINDS:
        raise InvalidInput("Stakeholder subscriptions use Slack, Teams or an email list.", field="kind")
    target = validate_target(kind, target)
    sub = StakeholderSubscription.objects.create(name=name.strip(), kind=kind, target=target, frequency=frequency, created_by=by)
    sub.severities.set(severities)
    audit_record(by=by, obj=sub, action="added", message=f"{sub.get_kind_display()}, {sub.get_frequency_display()}")
    return sub


@transaction.atomic
def subscription_update(*, subscription: StakeholderSubscription, severities=None, by=None, **changes) -> StakeholderSubscription:
    kind = changes.get("kind", subscription.kind)
    if kind not in SUBSCRIPTION_KINDS:
        raise InvalidInput("Stakeholder subscriptions use Slack, Teams or an email list.", field="kind")
    if "target" in changes or "kind" in changes:
        changes["target"] = validate_target(kind, changes.get("target", subscription.target))
    for field, value in changes.items():
        setattr(subscription, field, value)
    subscription.save()
    if severities is not None:
        subscription.severities.set(severities)
    audit_record(by=by, obj=subscription, action="changed", message=", ".join(sorted([*changes, *(["severities"] if severities is not None else [])])))
    return subscription


@transaction.atomic
def subscription_delete(*, subscription: StakeholderSubscription, by=None) -> None:
    audit_record(by=by, obj=subscription, action="deleted")
    subscription.delete()


@transaction.atomic
def notifications_retry(pks) -> int:
    """Put failed deliveries back in the queue with a fresh set of attempts."""
    now = timezone.now()
    rows = list(Notification.objects.filter(pk__in=pks, status=NotificationStatus.FAILED))
    n = Notification.objects.filter(pk__in=[r.pk for r in rows], status=NotificationStatus.FAILED).update(
        status=NotificationStatus.PENDING, due_at=now, attempts=0, error="")
    for row in rows:
        row.due_at = now
    enqueue_on_commit(rows)
    return n
