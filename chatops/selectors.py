"""Read paths of the chat core."""

from django.contrib.auth import get_user_model

from incidents import selectors as incident_selectors
from incidents.models import Incident

from .models import ChatPerson, IncidentChannel, Workspace


def may_post(incident: Incident) -> bool:
    """Whether anything of this incident may be said in chat channels. The one check every chat
    post goes through (outgoing.compose and the event handler): a restricted incident says
    nothing in shared chat (the core's one visibility rule, asked for the public)."""
    return incident_selectors.incident_visible(incident, None)


def workspace_for(kind: str, team_id: str) -> Workspace | None:
    if not team_id:
        return None
    return Workspace.objects.filter(kind=kind, team_id=team_id, is_active=True).first()


def incident_in_channel(workspace: Workspace, channel_id: str) -> Incident | None:
    if not channel_id:
        return None
    ic = IncidentChannel.objects.filter(workspace=workspace, channel_id=channel_id).select_related("incident").first()
    return ic.incident if ic is not None else None


def incident_by_number(number: str) -> Incident | None:
    number = (number or "").strip().upper()
    if not number.startswith("INC-") or len(number) > 24:
        return None
    return Incident.objects.select_related("severity").filter(number=number).first()


def chat_ids_of(workspace: Workspace, users) -> list[str]:
    ids = [u.pk for u in users if u is not None]
    return list(ChatPerson.objects.filter(workspace=workspace, user_id__in=ids).values_list("chat_user_id", flat=True))


def user_by_verified_email(email: str):
    """The one active portal user with this address (case-insensitive), or None (none, or two)."""
    if not email:
        return None
    found = list(get_user_model().objects.filter(email__iexact=email.strip(), is_active=True)[:2])
    return found[0] if len(found) == 1 else None


def channels_of(incident: Incident):
    return IncidentChannel.objects.filter(incident=incident, workspace__is_active=True, archived_at__isnull=True).select_related("workspace")
