"""Notification state changes: paging a person, contact methods and rules, test sends,
stakeholder subscriptions.

`notify_user` is what the escalation engine, update reminders and handoff reports call. It
writes one `delivery.Delivery` row (purpose `paging`) per (dedup key, contact method, rule step)
in the caller's transaction and hands the due ones to the outbox after commit; how they are
sent is `oncall.notifications.purposes` over `delivery.outbox`."""

import logging
from dataclasses import replace
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from delivery import outbox
from delivery.channels import ChannelError, InvalidTarget, channel_class
from delivery.messages import Message
from delivery.models import Delivery
from incidents import services as incident_services
from incidents.audit import audit_record
from incidents.exceptions import InvalidInput
from incidents.model_update import model_update

from .. import workhours
from . import routes, selectors
from .models import (
    SUBSCRIPTION_KINDS,
    TOKEN_KINDS,
    ChannelKind,
    ContactMethod,
    Frequency,
    NotificationRule,
    RuleUrgency,
    StakeholderSubscription,
    new_webhook_secret,
)

logger = logging.getLogger(__name__)
PAGING = selectors.PAGING
TEST = "test"  # Delivery.kind of a test send


def page_row(*, method: ContactMethod, dedup_key: str, message: Message, step: int = 0, due_at=None, kind: str = "",
             max_attempts: int | None = None) -> Delivery | None:
    """One paging row to one contact method (None: its key was used already). A route may take
    it over (`routes`: a Slack or Mattermost method of a person who linked their chat account
    goes as the bot's direct message with buttons), recorded on the row's message."""
    channel, target = method.kind, method.display_target
    routed = routes.for_method(method)
    if routed:
        channel, target, data = routed
        message = replace(message, data={**message.data, "route": data})
    return outbox.create(
        purpose=PAGING, kind=kind, channel=channel, target=target, destination_id=method.pk,
        dedup_key=dedup_key, step=step, message=message, incident_id=message.incident_id, user=method.user,
        due_at=due_at, max_attempts=max_attempts,
    )


# --- paging a person -----------------------------------------------------------------------


def notification_plan(user, urgency: str = RuleUrgency.HIGH) -> list[tuple[ContactMethod, int]]:
    """(contact method, delay in minutes) for the user's reachable methods, per their rules of
    that urgency (`selectors.paging_plan`, the one home of "who is reachable"). A user with no
    contact method at all gets one for their account email first."""
    if selectors.needs_account_email_method(user):
        # Never page into the void: someone who set nothing up is reached at their account email
        # (a real, visible contact method they can change). Disabled methods are respected.
        contact_method_create(user=user, kind=ChannelKind.EMAIL, target=user.email, label="Account email (added automatically)")
    plan = selectors.paging_plan(user, urgency)
    if not plan:
        logger.warning("user %s has no reachable contact method: nothing sent", user.pk)
    return plan


# Delivery.kind of a page held for the person's working hours (low urgency) and of an "inform"
# message (no acknowledge ladder, no phone): purposes cancel and compose them by these.
LOW_URGENCY, INFORM = "low_urgency", "inform"


def notify_user(*, user, message: Message, dedup_key: str, urgency: str = RuleUrgency.HIGH, inform: bool = False,
                now=None) -> list[Delivery]:
    """Fan `message` out to `user`'s contact methods according to their notification rules.

    High urgency: by the high-urgency rules, from now. Low urgency: by the low-urgency rules,
    from now inside the person's working hours, else from the start of their next working
    period (held until then, and dropped if the incident was acknowledged or resolved by then).
    `inform`: once to each non-phone method, nothing to acknowledge.

    Idempotent on `dedup_key`: a second call with the same key creates nothing and returns [].
    Rows are created in the caller's transaction; sending is enqueued on commit. Delayed steps
    of an incident message are cancelled at their due time if the incident was acknowledged."""
    now = now or timezone.now()
    created = []
    with transaction.atomic(savepoint=False):  # all or none; each insert has its own savepoint
        if inform:
            plan = [(m, 0) for m in selectors.inform_methods(notification_plan(user, RuleUrgency.LOW))]
            start, kind = now, INFORM
        elif urgency == RuleUrgency.LOW:
            plan, start, kind = notification_plan(user, urgency), workhours.for_person(user).next_start(now), LOW_URGENCY
        else:
            plan, start, kind = notification_plan(user), now, ""
        for method, delay in plan:
            row = page_row(method=method, dedup_key=dedup_key, message=message, step=delay, kind=kind,
                           due_at=start + timedelta(minutes=delay))
            if row is not None:
                created.append(row)
        outbox.enqueue_on_commit(created)
    return created


def notifications_act(*, incident, person, verb: str, via: str):
    """What a person answers from a page (an ntfy button, an SMS reply, a keypress): acknowledge
    or resolve `incident` as `person`, through the incident services (their timeline entry names
    the person and the way). DomainError when it cannot be done (already acknowledged...)."""
    if verb == "acknowledge":
        return incident_services.incident_acknowledge(incident=incident, by=person, via=via)
    if verb == "resolve":
        return incident_services.incident_resolve(incident=incident, by=person, summary=f"Resolved via {via}.")
    raise InvalidInput(f"Unknown action {verb!r}.", field="action")


# --- contact methods and rules -------------------------------------------------------------


def validate_target(kind: str, target: str) -> str:
    """The cleaned target for a channel kind (the channel decides: addresses, or a URL through
    the request-forgery guard), or InvalidInput naming the field."""
    try:
        channel = channel_class(kind)
    except ChannelError as exc:
        raise InvalidInput("Choose email, Slack, Teams, webhook, ntfy, SMS or voice.", field="kind") from exc
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
                          rate_limit_window: timedelta | None = None, is_active: bool = True, add_default_rule: bool = True,
                          token: str = "", by=None) -> ContactMethod:
    """Validate and save a contact method; the URL guard runs here and again at send time.

    `by` here and below: who, for the audit log. Contact methods and rules are recorded on
    their person (the admin's history of the user): how they are reached is part of paging."""
    target = validate_target(kind, target)
    _clean_rate(rate_limit_count, rate_limit_window)
    fields = {"user": user, "kind": kind, "target": target, "label": label.strip(), "is_active": is_active}
    if kind in TOKEN_KINDS:
        fields["secret"] = clean_token(token)
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


METHOD_FIELDS = ("kind", "target", "label", "is_active", "rate_limit_count", "rate_limit_window")


def clean_token(token: str) -> str:
    """An access token the person gives (ntfy's `tk_…`): one printable ASCII word, or none."""
    token = (token or "").strip()
    if len(token) > 100 or any(not (0x21 <= ord(ch) < 0x7F) for ch in token):
        raise InvalidInput("Paste the access token as it was shown (letters, digits and symbols, no spaces).", field="token")
    return token


@transaction.atomic
def contact_method_set_token(*, method: ContactMethod, token: str, by=None) -> ContactMethod:
    """Set or clear a push method's access token (stored like other secrets, never shown again in full)."""
    if method.kind not in TOKEN_KINDS:
        raise InvalidInput("Only ntfy methods take an access token.", field="token")
    method.secret = clean_token(token)
    method.save(update_fields=["secret"])
    audit_record(by=by, obj=method.user, action="changed",
                 message=f"access token {'set' if method.secret else 'cleared'}: {_method(method)}")
    return method


@transaction.atomic
def contact_method_update(*, method: ContactMethod, by=None, **changes) -> ContactMethod:
    """Change how a method reaches its person (never whose it is)."""
    kind = changes.get("kind", method.kind)
    if "target" in changes or "kind" in changes:
        changes["target"] = validate_target(kind, changes.get("target", method.target))
    _clean_rate(changes.get("rate_limit_count"), changes.get("rate_limit_window"))
    if "label" in changes:
        changes["label"] = changes["label"].strip()
    before = (method.kind, method.target)
    changed = model_update(instance=method, fields=METHOD_FIELDS, data=changes)
    if changed and (method.kind, method.target) != before and method.verified_at is not None:
        method.verified_at = method.opted_out_at = None  # a new number is verified anew
        method.save(update_fields=["verified_at", "opted_out_at"])
    if changed:
        audit_record(by=by, obj=method.user, action="changed", message=f"contact method changed ({', '.join(changed.fields)}): {_method(method)}")
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


def _check_rule(delay_minutes: int, urgency: str) -> None:
    if delay_minutes < 0 or delay_minutes > 24 * 60:
        raise InvalidInput("Use a delay between 0 and 1440 minutes.", field="delay_minutes")
    if urgency not in RuleUrgency.values:
        raise InvalidInput("Choose high or low urgency.", field="urgency")


def _rule(rule: NotificationRule) -> str:
    return f"{_method(rule.contact_method)} after {rule.delay_minutes} min, {rule.get_urgency_display().lower()}"


@transaction.atomic
def notification_rule_create(*, user, contact_method: ContactMethod, delay_minutes: int, urgency: str = RuleUrgency.HIGH,
                             by=None) -> NotificationRule:
    if contact_method.user_id != user.pk:
        raise InvalidInput("Choose one of this person's contact methods.", field="contact_method")
    _check_rule(delay_minutes, urgency)
    try:
        with transaction.atomic():
            rule = NotificationRule.objects.create(user=user, contact_method=contact_method, delay_minutes=delay_minutes,
                                                   urgency=urgency)
    except IntegrityError as exc:
        raise InvalidInput("That method already has a rule with this delay and urgency.", field="delay_minutes") from exc
    audit_record(by=by, obj=user, action="changed", message=f"rule added: {_rule(rule)}")
    return rule


@transaction.atomic
def notification_rule_update(*, rule: NotificationRule, delay_minutes: int | None = None, urgency: str | None = None,
                             by=None) -> NotificationRule:
    data = {"delay_minutes": rule.delay_minutes if delay_minutes is None else delay_minutes,
            "urgency": urgency or rule.urgency}
    _check_rule(data["delay_minutes"], data["urgency"])
    before = _rule(rule)
    if (NotificationRule.objects.filter(contact_method=rule.contact_method, **data).exclude(pk=rule.pk).exists()):
        raise InvalidInput("That method already has a rule with this delay and urgency.", field="delay_minutes")
    if model_update(instance=rule, fields=("delay_minutes", "urgency"), data=data):
        audit_record(by=by, obj=rule.user, action="changed", message=f"rule changed: {before} → {_rule(rule)}")
    return rule


@transaction.atomic
def notification_rule_delete(*, rule: NotificationRule, by=None) -> None:
    audit_record(by=by, obj=rule.user, action="changed", message=f"rule deleted: {_rule(rule)}")
    rule.delete()


@transaction.atomic
def contact_method_send_test(*, method: ContactMethod, by) -> Delivery:
    """Queue a test message to one contact method now (not rate limited away: a fresh key)."""
    name = by.get_full_name() or by.get_username()
    message = Message(
        kind="test", title="Test notification from the incident portal",
        body=f"{name} sent this test to check that this contact method works. No action is needed.",
        url=f"{settings.SITE_URL}/notifications/",
    )
    row = page_row(method=method, dedup_key=f"test:{timezone.now().isoformat()}:{method.pk}", message=message, kind=TEST,
                   max_attempts=1)
    outbox.enqueue_on_commit([row])
    return row


# --- stakeholder subscriptions -------------------------------------------------------------


SUBSCRIPTION_FIELDS = ("name", "kind", "target", "frequency", "severities", "include_drills", "is_active")


@transaction.atomic
def subscription_create(*, name: str, kind: str, target: str, frequency: str, severities=(), is_active: bool = True,
                        include_drills: bool = False, by=None) -> StakeholderSubscription:
    if kind not in SUBSCRIPTION_KINDS:
        raise InvalidInput("Stakeholder subscriptions use Slack, Teams or an email list.", field="kind")
    if not (name or "").strip():
        raise InvalidInput("A subscription needs a name.", field="name")
    if frequency not in Frequency.values:
        raise InvalidInput("Choose real time or an hourly digest.", field="frequency")
    target = validate_target(kind, target)
    sub = StakeholderSubscription.objects.create(name=name.strip(), kind=kind, target=target, frequency=frequency, is_active=is_active,
                                                 include_drills=include_drills,
                                                 created_by=by if by is not None and by.is_authenticated else None)
    sub.severities.set(severities)
    audit_record(by=by, obj=sub, action="added", message=f"{sub.get_kind_display()}, {sub.get_frequency_display()}")
    return sub


@transaction.atomic
def subscription_update(*, subscription: StakeholderSubscription, by=None, **changes) -> StakeholderSubscription:
    kind = changes.get("kind", subscription.kind)
    if kind not in SUBSCRIPTION_KINDS:
        raise InvalidInput("Stakeholder subscriptions use Slack, Teams or an email list.", field="kind")
    if "target" in changes or "kind" in changes:
        changes["target"] = validate_target(kind, changes.get("target", subscription.target))
    if "name" in changes:
        changes["name"] = (changes["name"] or "").strip()
        if not changes["name"]:
            raise InvalidInput("A subscription needs a name.", field="name")
    changed = model_update(instance=subscription, fields=SUBSCRIPTION_FIELDS, data=changes)
    if changed:
        audit_record(by=by, obj=subscription, action="changed", message=", ".join(changed.fields))
    return subscription


@transaction.atomic
def subscription_delete(*, subscription: StakeholderSubscription, by=None) -> None:
    audit_record(by=by, obj=subscription, action="deleted")
    subscription.delete()


def notifications_retry(pks) -> int:
    """Put failed deliveries back in the queue with a fresh set of attempts."""
    return outbox.retry(pks)
