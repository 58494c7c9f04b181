"""Signed, expiring acknowledge links that act for one person on one incident.

The token is `django.core.signing` over {incident id, user id}, timestamped and checked with a
max age (settings.NOTIFY_ACK_LINK_MAX_AGE). Following the link (GET) changes nothing: mail
scanners and link previews fetch GET links. The page names the incident and the person and
acknowledges on POST; a small script submits that form at once when a person opens it, so a
human still needs one click, while a scanner that merely fetches the page acknowledges nothing."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.urls import reverse

from incidents.models import Incident
from incidents.rules import RESPOND

SALT = "notifications.ack"
# Checked when the link is used, not when it was sent: someone who has since lost the responder
# role (or was deactivated) acknowledges nothing with a link they still hold.
ACK_PERMISSION = RESPOND  # the same permission the pages and the API ask for


class InvalidAckLink(Exception):
    pass


class AckNotAllowed(InvalidAckLink):
    """A genuine link whose person may no longer acknowledge (403)."""


@dataclass(frozen=True)
class AckGrant:
    incident: Incident
    user: object


def ack_token(*, incident_id: int, user_id: int) -> str:
    return signing.dumps({"i": incident_id, "u": user_id}, salt=SALT, compress=True)


def ack_url(*, incident_id: int, user_id: int) -> str:
    return settings.SITE_URL + reverse("notifications:ack", kwargs={"token": ack_token(incident_id=incident_id, user_id=user_id)})


def ack_read(token: str) -> AckGrant:
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.NOTIFY_ACK_LINK_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise InvalidAckLink("This acknowledge link has expired. Open the incident in the portal instead.") from exc
    except signing.BadSignature as exc:
        raise InvalidAckLink("This acknowledge link is not valid.") from exc
    user = get_user_model().objects.filter(pk=data.get("u")).first()
    # Only an incident the link's person may see (a restricted one: they were paged for it, or hold a role)
    incident = Incident.objects.visible_to(user).select_related("severity", "acknowledged_by").filter(pk=data.get("i")).first() if user else None
    if incident is None or user is None:
        raise InvalidAckLink("This acknowledge link no longer matches an incident and a person.")
    if not user.is_active or not user.has_perm(ACK_PERMISSION):
        raise AckNotAllowed(
            f"{user.get_full_name() or user.get_username()} is no longer allowed to acknowledge incidents, so this link acknowledges "
            "nothing. Ask a portal administrator if that is wrong."
        )
    return AckGrant(incident, user)


# --- one-tap actions (ntfy's action buttons, and the same grant for SMS and voice replies) ------

ACTION_SALT = "notifications.action"
ACTIONS = ("acknowledge", "resolve")


def action_token(*, incident_id: int, user_id: int, action: str) -> str:
    return signing.dumps({"i": incident_id, "u": user_id, "a": action}, salt=ACTION_SALT, compress=True)


def action_url(*, incident_id: int, user_id: int, action: str) -> str:
    """A URL that performs `action` as the person when POSTed to (no session, no CSRF token: the
    signed, expiring token is the credential; a GET changes nothing)."""
    token = action_token(incident_id=incident_id, user_id=user_id, action=action)
    return settings.SITE_URL + reverse("notifications:action", kwargs={"token": token})


def action_urls(*, incident_id: int, user_id: int) -> dict:
    return {name: action_url(incident_id=incident_id, user_id=user_id, action=name) for name in ACTIONS}


def action_read(token: str) -> tuple[AckGrant, str]:
    """The grant and the action of a one-tap action token (InvalidAckLink / AckNotAllowed)."""
    try:
        data = signing.loads(token, salt=ACTION_SALT, max_age=settings.NOTIFY_ACK_LINK_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise InvalidAckLink("This action has expired. Open the incident in the portal instead.") from exc
    except signing.BadSignature as exc:
        raise InvalidAckLink("This action link is not valid.") from exc
    if not isinstance(data, dict) or data.get("a") not in ACTIONS:
        raise InvalidAckLink("This action link is not valid.")
    return grant_for(incident_id=data.get("i"), user_id=data.get("u")), data["a"]


def grant_for(*, incident_id, user_id) -> AckGrant:
    """The incident and the person, if that person may still act on incidents."""
    incident = Incident.objects.select_related("severity", "acknowledged_by").filter(pk=incident_id).first() \
        if isinstance(incident_id, int) else None
    user = get_user_model().objects.filter(pk=user_id).first() if isinstance(user_id, int) else None
    if incident is None or user is None:
        raise InvalidAckLink("This link no longer matches an incident and a person.")
    if not user.is_active or not user.has_perm(ACK_PERMISSION):
        raise AckNotAllowed(
            f"{user.get_full_name() or user.get_username()} is no longer allowed to act on incidents. "
            "Ask a portal administrator if that is wrong."
        )
    return AckGrant(incident, user)
