"""`/incident <verb> ...`: parsed here, each verb acting through the incidents / oncall services
as the chat user's mapped portal user, with that user's permissions. Inside an incident channel
the incident is the channel's; elsewhere the first word is its number (INC-20261130-007).

Every answer is a short text shown only to the person who typed the command. What the
command changed reaches the channel as the timeline event it wrote (chatops.handlers)."""

import re
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction

from incidents import services as incident_services
from incidents.exceptions import DomainError, InvalidTransition
from incidents.models import Incident, IncidentStatus, Role, Service, Severity, Visibility
from incidents.rules import RESPOND
from oncall import selectors as oncall_selectors
from oncall.models import Layer, Schedule
from oncall.services import escalation

from . import formats, selectors, services
from .adapters import ChatError, for_workspace
from .models import SLACK, ChatPerson, Workspace

DECLARE = "incidents.add_incident"
PAGE = "oncall.page_manually"
VIEW_SCHEDULE = "oncall.view_schedule"
TEXT_LIMIT = 4000

HELP = """/incident declare <P1> <title>: declare an incident
/incident ack | status <investigating|identified|monitoring|resolved> | severity <P1>
/incident role <commander|tech_lead|comms_lead|scribe> @person
/incident update <text> | update --public <text> | note <text>
/incident page @person | page next | page <schedule | schedule / layer | group>
/incident resolve <summary> | channel
/incident oncall [schedule] | help
Outside an incident channel, put the incident number first: /incident INC-20261130-007 ack"""

ROLE_NAMES = {"commander": Role.COMMANDER, "ic": Role.COMMANDER, "tech_lead": Role.TECH_LEAD, "tech": Role.TECH_LEAD,
              "comms_lead": Role.COMMS_LEAD, "comms": Role.COMMS_LEAD, "scribe": Role.SCRIBE, "responder": Role.RESPONDER}
NEEDS_INCIDENT = {"ack", "status", "severity", "role", "update", "note", "page", "resolve", "channel"}


class Refused(Exception):
    """A clear answer for the person (unknown incident, no permission, bad arguments)."""


@dataclass
class Context:
    workspace: Workspace
    person: ChatPerson
    channel_id: str
    trigger_id: str = ""

    @property
    def user(self):
        return self.person.user


def _clean(text: str) -> str:
    text = (text or "").replace("\x00", "")
    text = "".join(ch for ch in text if ch in "\n\t" or ord(ch) >= 32)
    return text.strip()[:TEXT_LIMIT]


def _need(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")


def _person(ctx: Context, word: str):
    """`<@U123|dana>` (Slack's escaped mention): the mapped user; `@dana`: the portal username."""
    word = word.strip()
    m = _MENTION.match(word)
    if m:
        mapped = services.person_for(ctx.workspace, m.group(1))
        if mapped.user is None:
            raise Refused(f"{word} has not linked a portal account yet.")
        return mapped.user
    name = word.removeprefix("@")
    user = get_user_model().objects.filter(username__iexact=name, is_active=True).first() if name else None
    if user is None:
        raise Refused(f"Nobody called {name or word!r} in the portal.")
    return user


def run(ctx: Context, text: str) -> str:
    """Run one command; returns the answer. Raises Refused / PermissionDenied / DomainError."""
    text = _clean(text)
    words = text.split(None, 1)
    verb = words[0].lower() if words else "help"
    rest = words[1] if len(words) > 1 else ""
    incident = selectors.incident_in_channel(ctx.workspace, ctx.channel_id)
    if verb.upper().startswith("INC-"):
        incident = selectors.incident_by_number(verb)
        if incident is None:
            raise Refused(f"No incident {verb[:30]}.")
        words = rest.split(None, 1)
        verb = words[0].lower() if words else "help"
        rest = words[1] if len(words) > 1 else ""
    if verb == "help":
        return HELP
    if ctx.user is None:
        raise Refused("unmapped")
    handler = VERBS.get(verb)
    if handler is None:
        raise Refused(f"Unknown command {verb[:30]!r}. Try /incident help.")
    if verb in NEEDS_INCIDENT:
        if incident is None:
            raise Refused(f"Which incident? Run this in the incident's channel, or: /incident INC-YYYYMMDD-NNN {verb} ...")
        incident = Incident.objects.visible_to(ctx.user).select_related("severity").filter(pk=incident.pk).first()
        if incident is None:  # restricted, and this person is not among those who may know of it
            raise Refused("No such incident.")
        if verb not in ("page",):
            _need(ctx.user, RESPOND)
    return handler(ctx, incident, rest.strip())


def do_declare(ctx, _incident, rest):
    _need(ctx.user, DECLARE)
    words = rest.split(None, 1)
    severity = Severity.objects.filter(key__iexact=words[0], is_active=True).first() if words else None
    if severity is None and ctx.workspace.kind == SLACK and ctx.trigger_id:
        view = formats.slack_declare_view(title=rest, severities=Severity.objects.filter(is_active=True).order_by("rank"),
                                          services=Service.objects.filter(archived_at__isnull=True).order_by("name"),
                                          channel=ctx.channel_id)
        try:
            for_workspace(ctx.workspace).open_view(ctx.trigger_id, view)
        except ChatError as exc:
            raise Refused(f"Could not open the form ({exc.message}): /incident declare P1 <title> works too.") from exc
        return "Opening the form..."
    if severity is None:
        keys = ", ".join(Severity.objects.filter(is_active=True).values_list("key", flat=True))
        raise Refused(f"Start with a severity ({keys}): /incident declare P1 checkout errors")
    title = words[1].strip() if len(words) > 1 else ""
    incident = incident_services.incident_declare(title=title[:200], severity=severity, by=ctx.user, actor_label="chat")
    return f"Declared {incident.number} ({severity.key}): {incident.title}"


def do_ack(ctx, incident, rest):
    incident_services.incident_acknowledge(incident=incident, by=ctx.user, via=ctx.workspace.get_kind_display())
    return f"Acknowledged {incident.number}."


def do_status(ctx, incident, rest):
    words = rest.split(None, 1)
    status = words[0].lower() if words else ""
    if status not in IncidentStatus.values:
        raise Refused("Status is one of: " + ", ".join(IncidentStatus.values))
    incident_services.incident_change_status(incident=incident, status=status, by=ctx.user, message=words[1] if len(words) > 1 else "")
    return f"{incident.number} is now {IncidentStatus(status).label.lower()}."


def do_severity(ctx, incident, rest):
    severity = Severity.objects.filter(key__iexact=rest.split()[0], is_active=True).first() if rest.split() else None
    if severity is None:
        raise Refused("Which severity? /incident severity P1")
    incident_services.incident_change_severity(incident=incident, severity=severity, by=ctx.user)
    return f"{incident.number} is now {severity.key}."


def do_role(ctx, incident, rest):
    words = rest.split()
    if len(words) != 2 or words[0].lower() not in ROLE_NAMES:
        raise Refused("Usage: /incident role commander @dana (roles: commander, tech_lead, comms_lead, scribe, responder)")
    user = _person(ctx, words[1])
    incident_services.incident_assign_role(incident=incident, role=ROLE_NAMES[words[0].lower()], user=user, by=ctx.user)
    return f"{user.get_full_name() or user.get_username()} is {Role(ROLE_NAMES[words[0].lower()]).label.lower()} of {incident.number}."


def do_update(ctx, incident, rest):
    visibility = Visibility.INTERNAL
    if rest.startswith("--public"):
        visibility, rest = Visibility.PUBLIC, rest.removeprefix("--public").strip()
    if not rest:
        raise Refused("Usage: /incident update [--public] <text>")
    incident_services.incident_post_update(incident=incident, body=rest, visibility=visibility, by=ctx.user)
    return f"{Visibility(visibility).label} update posted on {incident.number}" + (
        " (the status page publishes it by its rules)." if visibility == Visibility.PUBLIC else ".")


def do_note(ctx, incident, rest):
    incident_services.incident_add_note(incident=incident, body=rest, by=ctx.user)
    return f"Note added to {incident.number}'s timeline."


def do_page(ctx, incident, rest):
    """`/incident page @lee`, `page next` (the next escalation level now), or the name of a
    schedule, a schedule's layer (`Primary / Weekdays`) or a group: every kind of target an
    escalation level can page, through the oncall escalation service."""
    _need(ctx.user, PAGE)
    target = rest.strip()
    if not target:
        raise Refused("Usage: /incident page @lee | next | <schedule> | <schedule> / <layer> | <group>")
    if target.startswith("@") or target.startswith("<@"):
        user = _person(ctx, target.split()[0])
        escalation.page_manually(incident=incident, by=ctx.user, user=user)
        return f"Paging {user.get_full_name() or user.get_username()} for {incident.number}."
    if target.lower() == "next":
        return _escalate(ctx, incident)
    found = _page_target(target)
    if found is None:
        raise Refused(f"No schedule, layer or group called {target[:80]!r}.")
    escalation.page_manually(incident=incident, by=ctx.user, targets=[found])
    return f"Paging {found['label']} for {incident.number}."


def _page_target(name: str) -> dict | None:
    """A schedule, a layer (`schedule / layer`) or a group by name (case-insensitive)."""
    schedule = Schedule.objects.filter(name__iexact=name).first()
    if schedule is not None:
        return escalation.manual_target(schedule=schedule)
    if "/" in name:
        schedule_name, _, layer_name = (p.strip() for p in name.partition("/"))
        layer = Layer.objects.select_related("schedule").filter(schedule__name__iexact=schedule_name, name__iexact=layer_name).first()
        if layer is not None:
            return escalation.manual_target(layer=layer)
    group = Group.objects.filter(name__iexact=name).first()
    return escalation.manual_target(group=group) if group is not None else None


def _escalate(ctx, incident) -> str:
    try:
        targets = escalation.escalate_next_level(incident=incident, by=ctx.user, via=ctx.workspace.get_kind_display())
    except InvalidTransition as exc:
        raise Refused(f"{exc} (/incident page @person)") from exc
    return f"Paging the next level now for {incident.number}: {', '.join(str(t.get('label')) for t in targets)}."


def do_resolve(ctx, incident, rest):
    incident_services.incident_resolve(incident=incident, by=ctx.user, summary=rest)
    return f"Resolved {incident.number}."


def do_channel(ctx, incident, rest):
    ic = services.channel_open(workspace=ctx.workspace, incident=incident, by=ctx.user)
    return f"The channel for {incident.number} is #{ic.name}."


def do_oncall(ctx, _incident, rest):
    _need(ctx.user, VIEW_SCHEDULE)
    schedules = Schedule.objects.order_by("name")
    if rest.strip():
        schedules = schedules.filter(name__iexact=rest.strip())
        if not schedules.exists():
            raise Refused(f"No schedule called {rest.strip()[:80]!r}.")
    schedules = list(schedules[:20])
    who = oncall_selectors.oncall_at([s.pk for s in schedules])
    users = oncall_selectors.users_by_id(who.values())
    lines = []
    for s in schedules:
        user = users.get(who.get(s.pk))
        lines.append(f"{s.name}: {(user.get_full_name() or user.get_username()) if user else 'nobody (a gap)'}")
    return "\n".join(lines) or "No schedules."


VERBS = {"declare": do_declare, "ack": do_ack, "acknowledge": do_ack, "status": do_status, "severity": do_severity,
         "role": do_role, "update": do_update, "note": do_note, "page": do_page, "resolve": do_resolve,
         "channel": do_channel, "oncall": do_oncall}


def answer(ctx: Context, text: str) -> str:
    """`run`, with every refusal made a clear sentence (never an error page)."""
    try:
        with transaction.atomic():
            return run(ctx, text)
    except Refused as exc:
        if str(exc) == "unmapped":
            return ("You have not linked your chat account to the portal yet, so nothing was done. "
                    f"Open this link while signed in to the portal (valid for an hour, once): {services.link_url(ctx.person)}")
        return str(exc)
    except PermissionDenied:
        return "You may not do that in the portal (ask an admin for the Responder role)."
    except DomainError as exc:
        return str(exc)


def button(ctx: Context, action: str, incident_id) -> str:
    """A button on a page, pressed by `ctx.person`: acknowledge, resolve, escalate now."""
    if ctx.user is None:
        raise Refused("unmapped")
    try:
        incident = Incident.objects.visible_to(ctx.user).select_related("severity").get(pk=int(incident_id))
    except (Incident.DoesNotExist, ValueError, TypeError) as exc:
        raise Refused("That incident is gone.") from exc
    _need(ctx.user, RESPOND)
    if action == "ack":
        incident_services.incident_acknowledge(incident=incident, by=ctx.user, via=ctx.workspace.get_kind_display())
        return f"Acknowledged {incident.number}."
    if action == "resolve":
        incident_services.incident_resolve(incident=incident, by=ctx.user)
        return f"Resolved {incident.number}."
    if action == "escalate":
        _need(ctx.user, PAGE)
        return _escalate(ctx, incident)
    raise Refused("Unknown button.")


def press(ctx: Context, action: str, incident_id) -> str:
    try:
        with transaction.atomic():
            return button(ctx, action, incident_id)
    except Refused as exc:
        if str(exc) == "unmapped":
            return ("You have not linked your chat account to the portal yet, so nothing was done. "
                    f"Open this link while signed in to the portal: {services.link_url(ctx.person)}")
        return str(exc)
    except PermissionDenied:
        return "You may not do that in the portal."
    except DomainError as exc:
        return str(exc)


def _state(values: dict, block: str, action: str) -> dict:
    found = (values.get(block) or {}).get(action) if isinstance(values.get(block), dict) else None
    return found if isinstance(found, dict) else {}


def declare_submitted(ctx: Context, view: dict) -> dict:
    """The modal's submission: {} closes it; {"response_action": "errors", ...} shows what is wrong."""
    values = (view.get("state") or {}).get("values") or {}
    if not isinstance(values, dict):
        values = {}
    title = _clean(str(_state(values, "title", "title").get("value") or ""))[:200]
    key = str((_state(values, "severity", "severity").get("selected_option") or {}).get("value") or "")
    picked = [str(o.get("value")) for o in _state(values, "services", "services").get("selected_options") or [] if isinstance(o, dict)]
    if ctx.user is None:
        return {"response_action": "errors", "errors": {"title": "Link your chat account first: run /incident help."}}
    try:
        with transaction.atomic():
            _need(ctx.user, DECLARE)
            severity = Severity.objects.filter(key=key, is_active=True).first()
            if severity is None:
                return {"response_action": "errors", "errors": {"severity": "Choose a severity."}}
            chosen = Service.objects.filter(pk__in=[int(p) for p in picked if p.isdigit() and len(p) < 12], archived_at__isnull=True)
            incident_services.incident_declare(title=title, severity=severity, services=list(chosen), by=ctx.user, actor_label="chat")
    except PermissionDenied:
        return {"response_action": "errors", "errors": {"title": "You may not declare incidents in the portal."}}
    except DomainError as exc:
        return {"response_action": "errors", "errors": {"title": str(exc)[:150]}}
    return {}
