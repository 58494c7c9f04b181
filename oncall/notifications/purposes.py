"""The two purposes this app registers with the delivery layer (`delivery.purposes`):

- `paging`: a message to one of a person's contact methods (pages, update reminders, handoff
  reports, test sends, rate-limit digests, "your contact method is failing" notices). Destination:
  the contact method (`Delivery.destination_id`). Pending rows are cancelled when the method is
  gone or disabled, and delayed rule steps when the incident no longer awaits acknowledgement.
  Over the method's rate limit a row is folded into the window's digest. A permanent failure
  marks the method as failing, tells its owner through another method, and brings the
  person's next channel forward (the timeline says so); the next success clears the mark.
- `stakeholders`: a message to a stakeholder subscription (real time, or the hourly digest).

Rows a route took (`routes`: the chat app's direct message to a linked person, its post in a
chat channel) are composed, addressed and followed up by that route, under the same purpose.
"""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from delivery import purposes, safetext
from delivery.channels import ChannelError, Destination, channel_class, registered_kinds
from delivery.messages import Message
from delivery.models import Delivery, DeliveryStatus
from incidents.services import timeline_record

from . import phones, routes, selectors, services, subscriptions
from .ack import ack_url, action_urls
from .models import ChannelKind, ContactMethod, StakeholderSubscription

S = DeliveryStatus
PAGING, STAKEHOLDERS = services.PAGING, subscriptions.STAKEHOLDERS
RATE_DIGEST = "rate_digest"
FAILING_NOTICE = "method_failing"
UNFOLDED = (RATE_DIGEST, services.TEST, FAILING_NOTICE, phones.VERIFY)
DIGEST_LIST = 5  # titles listed in a rate-limit digest before "and N more"


# --- paging ------------------------------------------------------------------------------------


def rate_window(method: ContactMethod, now: datetime) -> tuple[datetime, datetime]:
    """The fixed window `now` falls in, aligned to the epoch."""
    seconds = max(int(method.rate_limit_window.total_seconds()), 1)
    start = int(now.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(start, tz=UTC), datetime.fromtimestamp(start + seconds, tz=UTC)


def _method(row: Delivery) -> ContactMethod | None:
    """The row's contact method, as the claim's lock read it (one read per send, not four)."""
    if getattr(row, "_locked_method", None) is not None:
        return row._locked_method
    return ContactMethod.objects.select_related("user").filter(pk=row.destination_id).first()


def paging_lock(row: Delivery, from_sweep: bool) -> bool:
    """Decisions for one contact method (rate limit) are serialised by a lock on its row. The
    sweep already holds delivery rows (skip_locked), so it never waits: a busy method is
    skipped and left to its task or the next sweep. The method read here serves the rest of
    this claim and its send."""
    method = (ContactMethod.objects.select_for_update(skip_locked=from_sweep, of=("self",)).select_related("user")
              .filter(pk=row.destination_id).first())
    row._locked_method = method
    return not (from_sweep and method is None and ContactMethod.objects.filter(pk=row.destination_id).exists())


def paging_cancel_reason(row: Delivery) -> str:
    method = _method(row)
    if method is None:
        return "The contact method was deleted."
    if not method.is_active:
        return "The contact method is disabled."
    if method.opted_out_at is not None and method.kind == ChannelKind.SMS:
        return "The number replied STOP: no SMS until it replies START."
    if method.is_phone and method.verified_at is None and row.kind not in (phones.VERIFY, services.TEST):
        return "The number is not verified."
    held = row.step or row.kind == services.LOW_URGENCY  # a later rule step, or held for working hours
    if held and row.incident_id and row.kind not in UNFOLDED and not selectors.awaiting_acknowledgement(row.incident):
        if row.kind == services.LOW_URGENCY and not row.step:
            return "Skipped: the incident was acknowledged or resolved before the person's working hours began."
        return "Skipped: the incident was acknowledged before this step was due."
    return ""


def paging_fold(row: Delivery, now: datetime):
    """Over the method's rate limit: hold `row` back for this window's digest (created on first
    use, due at the window's end)."""
    if row.kind in UNFOLDED:
        return None
    method = _method(row)
    start, end = rate_window(method, now)
    recent = (
        Delivery.objects.filter(purpose=PAGING, destination_id=method.pk, status__in=[S.SENT, S.SENDING], claimed_at__gte=start)
        .exclude(pk=row.pk).exclude(kind=RATE_DIGEST).count()
    )
    over = phone_limit(row, method, now) if channel_class(row.channel).costly else ""
    if recent < method.rate_limit_count and not over:
        return None
    key = f"digest:{method.pk}:{int(start.timestamp())}"
    digest = services.page_row(method=method, dedup_key=key, kind=RATE_DIGEST, due_at=end,
                               message=Message(kind="digest", title="Notifications held back by the rate limit", body=""))
    if digest is None:
        digest = Delivery.objects.get(purpose=PAGING, dedup_key=key, destination_id=method.pk, step=0)
    return digest, over or f"Rate limit: {method.rate_limit_count} per window; folded into a digest."


def phone_limit(row: Delivery, method: ContactMethod, now: datetime) -> str:
    """Why a billed message (SMS, call) must wait for the digest: over the per-number or the
    portal-wide hourly limit (settings.PHONE_PER_NUMBER_PER_HOUR, PHONE_GLOBAL_PER_HOUR); ""."""
    hour = now - timedelta(hours=1)
    costly = [kind for kind in registered_kinds() if channel_class(kind).costly]
    sent = Delivery.objects.filter(purpose=PAGING, channel__in=costly, status__in=[S.SENT, S.SENDING], claimed_at__gte=hour)
    if sent.filter(target=method.display_target).exclude(pk=row.pk).count() >= settings.PHONE_PER_NUMBER_PER_HOUR:
        return f"Phone limit: {settings.PHONE_PER_NUMBER_PER_HOUR} per number per hour; folded into a digest."
    if sent.exclude(pk=row.pk).count() >= settings.PHONE_GLOBAL_PER_HOUR:
        return f"Portal-wide phone limit: {settings.PHONE_GLOBAL_PER_HOUR} per hour; folded into a digest."
    return ""


def _compose_rate_digest(row: Delivery) -> Message | None:
    folded = list(row.folded.order_by("created_at", "pk").values_list("message", flat=True))
    if not folded:
        return None
    lines = [f"• {m.get('title', '')}" for m in folded[:DIGEST_LIST]]
    if len(folded) > DIGEST_LIST:
        lines.append(f"…and {len(folded) - DIGEST_LIST} more")
    severities = {m.get("severity") for m in folded if m.get("severity")}
    worst = sorted(severities)[0] if severities else ""
    return Message(
        kind="digest", title=f"{len(folded)} more notification{'s' if len(folded) != 1 else ''} held back by your rate limit",
        body="\n".join(lines), url=settings.SITE_URL + reverse("incidents:list"), severity=worst,
    )


def _callbacks(row: Delivery) -> dict:
    """The portal URLs a phone provider calls back for this delivery (Twilio-signed)."""
    return {
        "twiml": settings.SITE_URL + reverse("notifications:twilio_voice", kwargs={"public_id": row.public_id}),
        "status": settings.SITE_URL + reverse("notifications:twilio_status", kwargs={"public_id": row.public_id}),
    }


def paging_compose(row: Delivery) -> Message | None:
    """The message as it goes out now, with a one-click acknowledge link and one-tap actions
    while the incident still awaits acknowledgement (and a reply code where the channel takes
    replies); None when there is nothing left to say."""
    message = _compose_rate_digest(row) if row.kind == RATE_DIGEST else Message.from_dict(row.message)
    if message is None:
        return None
    if row.kind == phones.VERIFY:
        message = phones.with_verification_code(row, message)
    actions = _callbacks(row) if channel_class(row.channel).costly else {}
    if message.incident_id and row.user_id and row.kind != services.INFORM and selectors.awaiting_acknowledgement(row.incident):
        actions.update(action_urls(incident_id=message.incident_id, user_id=row.user_id))
        reply_code = phones.reply_code_for(row) if channel_class(row.channel).takes_replies else ""
        message = replace(message, ack_url=ack_url(incident_id=message.incident_id, user_id=row.user_id), reply_code=reply_code)
    message = replace(message, actions=actions)
    route = routes.routed(row)
    if route is not None:  # the chat app's direct message, with its buttons
        return route.compose(row, message, () if row.kind == services.INFORM else routes.PAGE_ACTIONS)
    return message


def _unrouted(row: Delivery) -> None:
    """A row of a chat app channel that no route took (the person has not linked their chat
    account, or the chat workspace is gone): it fails for good, so the next method is tried."""
    if routes.for_channel(row.channel) is not None and routes.routed(row) is None:
        raise ChannelError("No linked chat account to send this to: link yours with /incident in the chat.", permanent=True)


def paging_destination(row: Delivery) -> Destination | None:
    method = _method(row)
    if method is None:
        return None
    _unrouted(row)
    route = routes.routed(row)
    if route is not None:
        return route.destination(row)
    return Destination(target=method.target, secret=method.secret)


def paging_sent(row: Delivery, receipt) -> list:
    """A delivery got through: the method works again (and a chat post keeps its id)."""
    ContactMethod.objects.filter(pk=row.destination_id, failing_since__isnull=False).update(failing_since=None, last_error="")
    route = routes.routed(row)
    return route.sent(row, receipt) if route is not None else []


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def mark_failing(row: Delivery, error: str) -> list[Delivery]:
    """The method failed for good: mark it (once, until a delivery gets through again; the mark
    holds when and why) and tell its owner through their first other reachable method."""
    now = timezone.now()
    if not ContactMethod.objects.filter(pk=row.destination_id, failing_since__isnull=True).update(
            failing_since=now, last_error=safetext.text(error, 2000)):
        return []  # gone, or marked already: its owner was told then
    method = _method(row)
    owner = method.user
    others = [m for m, _delay in selectors.paging_plan(owner) if m.pk != method.pk and m.failing_since is None]
    if not others:
        return []
    url = settings.SITE_URL + reverse("notifications:person", kwargs={"user_id": owner.pk})
    notice = Message(
        kind=FAILING_NOTICE, title=f"Your contact method {method.get_kind_display()} {method.display_target} is failing",
        body=(f"A notification to it failed for good: {error}\nUntil it works again, pages reach you through your other "
              "methods only. Check it, fix it and send a test from your notification settings."),
        url=url,
    )
    row = services.page_row(method=others[0], dedup_key=f"failing:{method.pk}:{int(now.timestamp())}", message=notice,
                            kind=FAILING_NOTICE)
    return [row] if row is not None else []


def fall_back(row: Delivery, error: str) -> list[Delivery]:
    """After `row` failed for good: the person's next channel by their rules (a pending row of
    the same page on another contact method, due later) is due now, and the incident's timeline
    says what failed and what is tried instead."""
    if row.user_id is None:
        return []
    now = timezone.now()
    nxt = (
        Delivery.objects.filter(purpose=PAGING, dedup_key=row.dedup_key, user_id=row.user_id, status=S.PENDING, step__gt=row.step)
        .exclude(destination_id=row.destination_id).order_by("step", "pk").first()
    )
    moved = nxt is not None and Delivery.objects.filter(pk=nxt.pk, status=S.PENDING).update(due_at=now)
    if row.incident_id:
        name = _name(row.user)
        if moved:
            then = f"trying {ChannelKind(nxt.channel).label} {nxt.target} now instead of after {nxt.step} min"
        elif Delivery.objects.filter(purpose=PAGING, dedup_key=row.dedup_key, user_id=row.user_id).exclude(
                destination_id=row.destination_id).exists():
            then = "their other channels were tried already"
        else:
            then = "no other channel left in their notification rules"
        timeline_record(
            incident=row.incident, kind="notification.failed", actor_label="Notifications",
            message=safetext.line(f"{ChannelKind(row.channel).label} to {name} ({row.target}) failed: {error}; {then}", 2000),
            data={"notification": str(row.public_id), "fallback": str(nxt.public_id) if moved else None},
            dispatch=False,
        )
    if moved:
        nxt.due_at = now
        return [nxt]
    return []


def paging_failed(row: Delivery, error: str) -> list[Delivery]:
    """Runs once per row, in the transaction that records the failure (delivery.outbox)."""
    return fall_back(row, error) + mark_failing(row, error)


# --- stakeholders -------------------------------------------------------------------------------


def _subscription(row: Delivery) -> StakeholderSubscription | None:
    return StakeholderSubscription.objects.filter(pk=row.destination_id).first()


def stakeholders_cancel_reason(row: Delivery) -> str:
    sub = _subscription(row)
    if sub is None:
        return "The subscription was deleted."
    if not sub.is_active:
        return "The subscription is disabled."
    return ""


def stakeholders_compose(row: Delivery) -> Message | None:
    message = subscriptions.compose_digest(row) if row.kind == subscriptions.DIGEST else Message.from_dict(row.message)
    route = routes.routed(row)
    if message is None or route is None:
        return message
    # Posted by the chat app: Open, and Acknowledge only where the people reading it may act (a
    # chat channel whose buttons act as the person who presses them, with their permissions)
    # and while the incident still awaits acknowledgement.
    may_act = row.incident_id is not None and selectors.awaiting_acknowledgement(row.incident)
    return route.compose(row, message, ("ack",) if may_act else ())


def stakeholders_destination(row: Delivery) -> Destination | None:
    sub = _subscription(row)
    if sub is None:
        return None
    _unrouted(row)
    route = routes.routed(row)
    if route is not None:
        return route.destination(row)
    return Destination(target=sub.target, secret=sub.secret)


def stakeholders_sent(row: Delivery, receipt) -> list:
    route = routes.routed(row)
    return (route.sent(row, receipt) if route is not None else []) + subscriptions.after_digest_sent(row)


def register() -> None:
    purposes.register(purposes.Purpose(
        name=PAGING, label="Paging", destination=paging_destination, compose=paging_compose,
        cancel_reason=paging_cancel_reason, lock=paging_lock, fold=paging_fold,
        after_sent=paging_sent, after_failed=paging_failed, paging=True,
    ))
    purposes.register(purposes.Purpose(
        name=STAKEHOLDERS, label="Stakeholder subscriptions", destination=stakeholders_destination,
        compose=stakeholders_compose, cancel_reason=stakeholders_cancel_reason,
        after_sent=stakeholders_sent,
    ))
