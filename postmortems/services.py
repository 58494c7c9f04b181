"""Every postmortem and action-item state change, one function per verb.

The staff pages, the API, the admin, the event subscriber and the tasks all call these. Each runs
in one transaction: a rule broken anywhere means nothing is saved."""

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from incidents.event_payloads import PostmortemPublished
from incidents.exceptions import InvalidInput, InvalidTransition
from incidents.model_update import model_update
from incidents.models import Incident, IncidentMember, IncidentStatus, Role, TimelineEvent
from incidents.services import timeline_record
from incidents.templatetags.portal import duration

from . import reminders
from .models import (
    ACTION_OPEN_STATUSES,
    ActionCategory,
    ActionItem,
    ActionPriority,
    ActionStatus,
    Postmortem,
    PostmortemSection,
    PostmortemStatus,
    PostmortemTemplate,
    SectionPrefill,
    SeverityTemplate,
)

User = get_user_model()

# Timeline kinds picked for the postmortem's timeline section unless the writer chooses others.
KEY_EVENT_KINDS = {
    "declared", "acknowledged", "status_changed", "mitigated", "severity_changed", "note", "status_update", "resolved", "reopened",
}
DEFAULT_DUE = timedelta(days=7)


def _name(user) -> str:
    if user is None:
        return "nobody"
    return user.get_full_name() or user.get_username()


def _by(user):
    return user if (user is not None and user.is_authenticated) else None


def _check_active(user, field: str) -> None:
    if user is not None and not user.is_active:
        raise InvalidInput(f"{_name(user)} is not an active user; choose someone else.", field=field)


# --- templates and the fill-in ---------------------------------------------------------------


def template_for(severity) -> PostmortemTemplate:
    choice = SeverityTemplate.objects.select_related("template").filter(severity=severity).first()
    if choice:
        return choice.template
    template = PostmortemTemplate.objects.filter(is_default=True).first() or PostmortemTemplate.objects.order_by("pk").first()
    if template is None:
        raise InvalidInput("No postmortem template exists; add one in the admin.", field="template")
    return template


def default_owner(incident: Incident):
    """The incident commander; else whoever resolved it; else whoever declared it."""
    member = IncidentMember.objects.select_related("user").filter(incident=incident, role=Role.COMMANDER, user__is_active=True).first()
    if member:
        return member.user
    for user in (incident.resolved_by, incident.declared_by):
        if user is not None and user.is_active:
            return user
    return None


def _fmt_time(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z")


def summary_facts(incident: Incident) -> str:
    end = incident.resolved_at or timezone.now()
    member = IncidentMember.objects.select_related("user").filter(incident=incident, role=Role.COMMANDER).first()
    commander = member.user if member else None
    services = ", ".join(s.name for s in incident.services.all()) or "none recorded"
    lines = [
        f"- **Incident:** {incident.number} {incident.title}",
        f"- **Severity:** {incident.severity.key} {incident.severity.label}",
        f"- **Duration:** {duration(end - incident.started_at)} ({_fmt_time(incident.started_at)} to "
        + (_fmt_time(incident.resolved_at) if incident.resolved_at else "still open") + ")",
        f"- **Incident commander:** {_name(commander) if commander else 'not assigned'}",
        f"- **Services:** {services}",
    ]
    text = "\n".join(lines)
    extra = "\n\n".join(t for t in (incident.summary, incident.resolution_summary) if t)
    return f"{text}\n\n{extra}" if extra else text


def services_text(incident: Incident) -> str:
    names = [f"- {s.name}" for s in incident.services.all()]
    text = "\n".join(names) if names else "- (no services recorded)"
    return f"{text}\n\n{incident.impact}" if incident.impact else text


def key_events(incident: Incident) -> list[TimelineEvent]:
    return [e for e in incident.timeline.select_related("actor").order_by("occurred_at", "pk") if e.kind in KEY_EVENT_KINDS]


def timeline_text(events: Iterable[TimelineEvent]) -> str:
    lines = []
    for event in events:
        stamp = timezone.localtime(event.occurred_at).strftime("%Y-%m-%d %H:%M")
        message = " ".join(event.message.split())
        lines.append(f"- **{stamp}** {message} ({event.actor_name})")
    return "\n".join(lines) or "- (no events)"


def _prefill(prefill: str, incident: Incident) -> str:
    if prefill == SectionPrefill.SUMMARY:
        return summary_facts(incident)
    if prefill == SectionPrefill.SERVICES:
        return services_text(incident)
    if prefill == SectionPrefill.TIMELINE:
        return timeline_text(key_events(incident))
    return ""


# --- postmortems -----------------------------------------------------------------------------


@transaction.atomic
def postmortem_create(
    *, incident: Incident, by=None, owner=None, due_at: datetime | None = None, template: PostmortemTemplate | None = None,
    automatic: bool = False, reviewers: Iterable = (),
) -> Postmortem:
    """Open a postmortem for an incident, its sections filled in from the template and the incident."""
    now = timezone.now()
    incident = Incident.objects.select_for_update(of=("self",)).select_related("severity", "resolved_by", "declared_by").get(pk=incident.pk)
    if Postmortem.objects.filter(incident=incident).exists():
        raise InvalidTransition(f"{incident.number} already has a postmortem.")
    if due_at is None:
        base = incident.resolved_at or now
        due_at = base + (incident.severity.postmortem_due or DEFAULT_DUE)
    elif due_at <= now and not automatic:
        raise InvalidInput("The due date is in the past; choose a later one.", field="due_at")
    if owner is None:
        owner = default_owner(incident)
    _check_active(owner, "owner")
    reviewers = list(reviewers)
    for reviewer in reviewers:
        _check_active(reviewer, "reviewers")
    template = template or template_for(incident.severity)
    postmortem = Postmortem.objects.create(
        incident=incident, template=template, title=f"Postmortem: {incident.title}", owner=owner, due_at=due_at,
        created_by=_by(by), automatic=automatic,
    )
    if reviewers:
        postmortem.reviewers.set(reviewers)
    PostmortemSection.objects.bulk_create(
        PostmortemSection(
            postmortem=postmortem, key=s.key, title=s.title, group=s.group, guidance=s.guidance, required=s.required,
            prefill=s.prefill, position=s.position, body=_prefill(s.prefill, incident),
        )
        for s in template.sections.all()
    )
    ActionItem.objects.filter(incident=incident, postmortem__isnull=True).update(postmortem=postmortem)
    timeline_record(
        incident=incident, kind="postmortem.created", by=by, actor_label="" if by else "Postmortems",
        message=f"Postmortem opened{' automatically' if automatic else ''}, owned by {_name(owner)}, due {_fmt_time(due_at)}",
        data={"postmortem": postmortem.pk, "owner": owner.pk if owner else None, "due_at": due_at.isoformat(), "automatic": automatic},
    )
    reminders.schedule_for_postmortem(postmortem)
    return postmortem


def postmortem_create_on_resolution(event: TimelineEvent) -> Postmortem | None:
    """Subscriber of `resolved`: opens the postmortem when the severity or the type requires one. Idempotent."""
    incident = Incident.objects.select_related("severity", "type").filter(pk=event.incident_id).first()
    if incident is None or not incident.postmortem_required:
        return None
    if Postmortem.objects.filter(incident=incident).exists():
        return None
    if incident.status != IncidentStatus.RESOLVED:
        return None  # reopened before the worker got here; the next resolution opens it
    resolved_at = incident.resolved_at or event.occurred_at
    due_at = resolved_at + (incident.severity.postmortem_due or DEFAULT_DUE)
    try:
        with transaction.atomic():
            return postmortem_create(incident=incident, due_at=due_at, automatic=True)
    except (IntegrityError, InvalidTransition):
        return None  # another delivery of the same event got there first


def _locked(postmortem: Postmortem) -> Postmortem:
    return Postmortem.objects.select_for_update(of=("self",)).select_related("incident", "owner").get(pk=postmortem.pk)


def _editable(postmortem: Postmortem) -> Postmortem:
    postmortem = _locked(postmortem)
    if not postmortem.is_editable:
        raise InvalidTransition("This postmortem is published and read-only.")
    return postmortem


@transaction.atomic
def postmortem_update(
    *, postmortem: Postmortem, by=None, sections: dict[str, str] | None = None, title: str | None = None, owner=...,
    due_at: datetime | None = None, reviewers: Iterable | None = None, review_meeting_at=..., review_meeting_place: str | None = None,
    public_summary: str | None = None,
) -> Postmortem:
    """Edit a draft or in-review postmortem. `owner` and `review_meeting_at` use ... for "unchanged"."""
    postmortem = _editable(postmortem)
    now = timezone.now()
    changed = []
    old_meeting = postmortem.review_meeting_at
    old_reviewers = set(postmortem.reviewers.values_list("pk", flat=True))
    if title is not None:
        if not title.strip():
            raise InvalidInput("A title is required.", field="title")
        if title.strip() != postmortem.title:
            postmortem.title = title.strip()
            changed.append("title")
    if owner is not ...:
        _check_active(owner, "owner")
        if (owner.pk if owner else None) != postmortem.owner_id:
            postmortem.owner = owner
            changed.append("owner")
    if due_at is not None and due_at != postmortem.due_at:
        if due_at <= now:
            raise InvalidInput("The due date is in the past; choose a later one.", field="due_at")
        postmortem.due_at = due_at
        changed.append("due date")
    if review_meeting_at is not ... and review_meeting_at != postmortem.review_meeting_at:
        if review_meeting_at is not None and review_meeting_at <= now:
            raise InvalidInput("The review meeting cannot be in the past.", field="review_meeting_at")
        postmortem.review_meeting_at = review_meeting_at
        changed.append("review meeting")
    if review_meeting_place is not None and review_meeting_place != postmortem.review_meeting_place:
        postmortem.review_meeting_place = review_meeting_place
        changed.append("meeting place")
    if public_summary is not None and public_summary != postmortem.public_summary:
        postmortem.public_summary = public_summary
        changed.append("public summary")
    if reviewers is not None:
        reviewers = list(reviewers)
        for reviewer in reviewers:
            _check_active(reviewer, "reviewers")
        if {r.pk for r in reviewers} != old_reviewers:
            postmortem.reviewers.set(reviewers)
            changed.append("reviewers")
    if sections:
        existing = {s.key: s for s in postmortem.sections.all()}
        unknown = sorted(set(sections) - set(existing))
        if unknown:
            raise InvalidInput(f"Unknown section(s): {', '.join(unknown)}.", field="sections")
        for key, body in sections.items():
            body = body.replace("\r\n", "\n")  # browsers send CRLF; keep edits that change nothing from counting
            section = existing[key]
            if body != section.body:
                section.body = body
                section.save(update_fields=["body"])
                changed.append(section.title.lower())
    if not changed:
        return postmortem
    postmortem.save()
    timeline_record(
        incident=postmortem.incident, kind="postmortem.edited", by=by, dispatch=False,
        message=f"{_name(by)} edited the postmortem: {', '.join(changed)}", data={"postmortem": postmortem.pk, "changed": changed},
    )
    if "owner" in changed or "due date" in changed or old_meeting != postmortem.review_meeting_at:
        reminders.schedule_for_postmortem(postmortem)  # a meeting set (or cleared) cancels (or plans) its reminder
    if postmortem.status == PostmortemStatus.IN_REVIEW and (
        old_meeting != postmortem.review_meeting_at or set(postmortem.reviewers.values_list("pk", flat=True)) != old_reviewers
    ):
        reminders.schedule_review_invites(postmortem)
    return postmortem


@transaction.atomic
def postmortem_rebuild_timeline(*, postmortem: Postmortem, event_ids: Iterable[int], by=None) -> PostmortemSection:
    """Replace the timeline section with the chosen events of the incident (then edit freely)."""
    postmortem = _editable(postmortem)
    section = postmortem.sections.filter(prefill=SectionPrefill.TIMELINE).first()
    if section is None:
        raise InvalidInput("This postmortem's template has no timeline section.", field="events")
    ids = {int(i) for i in event_ids}
    events = postmortem.incident.timeline.select_related("actor").filter(pk__in=ids).order_by("occurred_at", "pk")
    if len(events) != len(ids):
        raise InvalidInput("Choose events of this incident.", field="events")
    section.body = timeline_text(events)
    section.save(update_fields=["body"])
    return section


def missing_required_sections(postmortem: Postmortem) -> list[str]:
    return [s.title for s in postmortem.sections.all() if s.required and not s.body.strip()]


def incomplete_action_items(postmortem: Postmortem) -> list[str]:
    problems = []
    items = ActionItem.objects.filter(incident=postmortem.incident).exclude(status=ActionStatus.WONT_DO).order_by("pk")
    for item in items:
        missing = [label for label, empty in (("an owner", item.owner_id is None), ("a due date", item.due_date is None)) if empty]
        if missing:
            problems.append(f"“{item.title}” has no {' and no '.join(m.split(' ', 1)[1] for m in missing)}")
    return problems


@transaction.atomic
def postmortem_submit_for_review(*, postmortem: Postmortem, by=None) -> Postmortem:
    postmortem = _editable(postmortem)
    if not postmortem.can_transition_to(PostmortemStatus.IN_REVIEW):
        raise InvalidTransition("Only a draft can be sent for review.")
    postmortem.status = PostmortemStatus.IN_REVIEW
    postmortem.submitted_at = timezone.now()
    postmortem.save(update_fields=["status", "submitted_at", "updated_at"])
    names = ", ".join(_name(u) for u in postmortem.reviewers.all()) or "no reviewers yet"
    timeline_record(
        incident=postmortem.incident, kind="postmortem.in_review", by=by,
        message=f"Postmortem sent for review ({names})", data={"postmortem": postmortem.pk},
    )
    reminders.schedule_review_invites(postmortem)
    return postmortem


@transaction.atomic
def postmortem_return_to_draft(*, postmortem: Postmortem, by=None) -> Postmortem:
    postmortem = _editable(postmortem)
    if not postmortem.can_transition_to(PostmortemStatus.DRAFT):
        raise InvalidTransition("Only a postmortem in review can go back to draft.")
    postmortem.status = PostmortemStatus.DRAFT
    postmortem.save(update_fields=["status", "updated_at"])
    timeline_record(
        incident=postmortem.incident, kind="postmortem.returned", by=by, dispatch=False,
        message="Postmortem returned to draft", data={"postmortem": postmortem.pk},
    )
    return postmortem


def public_url(postmortem: Postmortem) -> str:
    return f"{settings.SITE_URL}{postmortem.get_absolute_url()}"


@transaction.atomic
def postmortem_publish(*, postmortem: Postmortem, by=None, public_summary: str | None = None) -> Postmortem:
    """In review -> published (read-only from then on). Refused, naming what is missing, while a
    required section is empty or an action item has no owner or due date."""
    postmortem = _locked(postmortem)
    if postmortem.status == PostmortemStatus.PUBLISHED:
        raise InvalidTransition("This postmortem is already published.")
    if not postmortem.can_transition_to(PostmortemStatus.PUBLISHED):
        raise InvalidTransition("Send the postmortem for review before publishing it.")
    if public_summary is not None:
        postmortem.public_summary = public_summary.strip()
    missing = missing_required_sections(postmortem)
    if missing:
        raise InvalidInput(f"Fill in the required section(s) before publishing: {', '.join(missing)}.", field="sections")
    incomplete = incomplete_action_items(postmortem)
    if incomplete:
        raise InvalidInput("Every action item needs an owner and a due date: " + "; ".join(incomplete) + ".", field="action_items")
    postmortem.status = PostmortemStatus.PUBLISHED
    postmortem.published_at = timezone.now()
    postmortem.published_by = _by(by)
    postmortem.save(update_fields=["status", "published_at", "published_by", "public_summary", "updated_at"])
    reminders.cancel_for_postmortem(postmortem)
    timeline_record(
        incident=postmortem.incident, kind=PostmortemPublished.KIND, by=by,
        message="Postmortem published" + (" with a public summary" if postmortem.public_summary else ""),
        data=PostmortemPublished(postmortem.pk, postmortem.public_summary, public_url(postmortem)).as_data(),
    )
    return postmortem


# --- action items ----------------------------------------------------------------------------


def _validate_item_fields(*, title, owner, category, priority, status, due_date, today: date, due_date_changed: bool) -> None:
    if not (title or "").strip():
        raise InvalidInput("A title is required.", field="title")
    _check_active(owner, "owner")
    if category not in ActionCategory.values:
        raise InvalidInput(f"Unknown category {category!r}.", field="category")
    if priority not in ActionPriority.values:
        raise InvalidInput(f"Unknown priority {priority!r}.", field="priority")
    if status not in ActionStatus.values:
        raise InvalidInput(f"Unknown status {status!r}.", field="status")
    if due_date is not None and due_date_changed and due_date < today:
        raise InvalidInput("The due date is in the past; choose today or later.", field="due_date")


@transaction.atomic
def action_item_create(
    *, incident: Incident, title: str, by=None, description: str = "", owner=None, due_date: date | None = None,
    category: str = ActionCategory.PREVENTION, priority: str = ActionPriority.MEDIUM, ticket_url: str = "",
    postmortem: Postmortem | None = None,
) -> ActionItem:
    _validate_item_fields(
        title=title, owner=owner, category=category, priority=priority, status=ActionStatus.OPEN, due_date=due_date,
        today=timezone.localdate(), due_date_changed=True,
    )
    if postmortem is None:
        # Made on the incident: it joins the incident's postmortem while that is still being written.
        postmortem = Postmortem.objects.filter(incident=incident).exclude(status=PostmortemStatus.PUBLISHED).first()
    elif postmortem.incident_id != incident.pk:
        raise InvalidInput("The postmortem belongs to another incident.", field="postmortem")
    elif not _locked(postmortem).is_editable:
        raise InvalidTransition("This postmortem is published and read-only; add follow-ups on the incident.")
    item = ActionItem.objects.create(
        incident=incident, postmortem=postmortem, title=title.strip(), description=description, owner=owner, due_date=due_date,
        category=category, priority=priority, ticket_url=ticket_url, created_by=_by(by),
    )
    timeline_record(
        incident=incident, kind="action_item.created", by=by, dispatch=False,
        message=f"Action item: {item.title} ({item.get_category_display().lower()}, owner {_name(owner)})",
        data={"action_item": item.pk, "owner": owner.pk if owner else None, "due_date": due_date.isoformat() if due_date else None},
    )
    return item


ITEM_FIELDS = ("title", "description", "owner", "due_date", "category", "priority", "status", "ticket_url")


@transaction.atomic
def action_item_update(*, item: ActionItem, by=None, **changes) -> ActionItem:
    unknown = set(changes) - set(ITEM_FIELDS)
    if unknown:
        raise InvalidInput(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    item = ActionItem.objects.select_for_update().get(pk=item.pk)
    new = {f: changes.get(f, getattr(item, f)) for f in ITEM_FIELDS}
    _validate_item_fields(
        title=new["title"], owner=new["owner"] if new["owner"] != item.owner else None, category=new["category"], priority=new["priority"],
        status=new["status"], due_date=new["due_date"], today=timezone.localdate(), due_date_changed=new["due_date"] != item.due_date,
    )
    data = {f: new[f].strip() if f == "title" else new[f] for f in ITEM_FIELDS if new[f] != getattr(item, f)}
    if "status" in data:
        data["completed_at"] = timezone.now() if data["status"] == ActionStatus.DONE else None
    changes = model_update(instance=item, fields=(*ITEM_FIELDS, "completed_at"), data=data)
    changed = [f for f in changes.fields if f != "completed_at"]
    if not changed:
        return item
    label = {"due_date": "due date", "ticket_url": "ticket link"}
    detail = f"status {item.get_status_display().lower()}" if changed == ["status"] else ", ".join(label.get(f, f) for f in changed)
    timeline_record(
        incident=item.incident, kind="action_item.updated", by=by, dispatch=False,
        message=f"Action item “{item.title}” updated: {detail}", data={"action_item": item.pk, "changed": changed},
    )
    return item


def action_items_overdue_for(user, today: date | None = None):
    today = today or timezone.localdate()
    return ActionItem.objects.filter(owner=user, status__in=ACTION_OPEN_STATUSES, due_date__lt=today).select_related("incident")
