"""People: invite, update, deactivate (never delete), and a person's own profile. Each verb
writes an audit entry. Inviting sends a set-password link through the delivery layer (an email
notification row), built with Django's password-reset tokens: the account has no usable
password until the person sets one."""


from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from delivery import outbox
from delivery.messages import Message
from incidents.audit import audit_record
from incidents.exceptions import InUse, InvalidInput
from incidents.model_update import model_update
from incidents.zones import check_zone
from oncall.notifications import services as notify
from oncall.notifications.models import ChannelKind, ContactMethod

from .. import workhours
from ..models import Profile

User = get_user_model()
NAME_FIELDS = ("first_name", "last_name", "email")


def _check_may_change(person, by) -> None:
    if person.is_superuser and by is not None and not by.is_superuser:
        raise InUse("Only a superuser changes a superuser's account.", field="username")


def _set_zone(person, time_zone: str | None) -> bool:
    if time_zone is None:
        return False
    if time_zone:
        check_zone(time_zone)
    profile, _ = Profile.objects.get_or_create(user=person)
    if profile.time_zone == time_zone:
        return False
    Profile.objects.filter(pk=profile.pk).update(time_zone=time_zone)
    return True


def _set_working_hours(person, days, start, end) -> str:
    """Change the working hours (any of days / start / end); what changed, for the audit, or ""."""
    if days is None and start is None and end is None:
        return ""
    profile, _ = Profile.objects.get_or_create(user=person)
    data = {"working_days": profile.working_days if days is None else workhours.clean_days(days),
            "working_start": start or profile.working_start, "working_end": end or profile.working_end}
    workhours.clean_period(data["working_start"], data["working_end"])
    if not model_update(instance=profile, fields=tuple(data), data=data):
        return ""
    return f"working hours: {workhours.for_person(person).describe()}"


def set_password_url(person) -> str:
    uid = urlsafe_base64_encode(force_bytes(person.pk))
    return settings.SITE_URL + reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": default_token_generator.make_token(person)})


@transaction.atomic
def person_invite(*, username: str, email: str, first_name: str = "", last_name: str = "", groups=(), time_zone: str = "",
                  invite: bool = True, by) -> User:
    """A new account with no usable password; with `invite` and an email address, a message with
    a link to set the password (valid PASSWORD_RESET_TIMEOUT)."""
    if User.objects.filter(username__iexact=username).exists():
        raise InvalidInput(f"The username “{username}” is taken.", field="username")
    if time_zone:
        check_zone(time_zone)
    person = User(username=username, email=email, first_name=first_name, last_name=last_name)
    person.set_unusable_password()
    person.save()
    person.groups.set(groups)
    Profile.objects.create(user=person, time_zone=time_zone)
    audit_record(by=by, obj=person, action="added",
                 message=f"Invited with groups: {', '.join(g.name for g in groups) or 'none'}.")
    if invite and email:
        _send_invite(person)
    return person


def _send_invite(person) -> None:
    method = (ContactMethod.objects.filter(user=person, kind=ChannelKind.EMAIL, target=person.email).first()
              or notify.contact_method_create(user=person, kind=ChannelKind.EMAIL, target=person.email, label="Account email"))
    days = max(1, round(settings.PASSWORD_RESET_TIMEOUT / 86400))
    message = Message(
        kind="invite", title="Your Incident Portal account",
        body=(f"An account was made for you ({person.get_username()}). Set your password with the link below "
              f"within {days} day{'s' if days != 1 else ''}; after that, ask an administrator for a new invitation."),
        url=set_password_url(person),
    )
    row = notify.page_row(method=method, dedup_key=f"invite:{person.pk}:{timezone.now().isoformat()}", message=message,
                          kind="invite")
    outbox.enqueue_on_commit([row])


@transaction.atomic
def person_update(*, person, by, groups=None, is_active: bool | None = None, time_zone: str | None = None,
                  working_days=None, working_start=None, working_end=None, **fields) -> User:
    """Change names, email, groups, active state, time zone or working hours (when low-urgency
    incidents reach them: `oncall.workhours`); records what changed."""
    _check_may_change(person, by)
    data = dict(fields)
    if is_active is not None:
        data["is_active"] = is_active
    if groups is not None:
        data["groups"] = list(groups)
    changes = model_update(instance=person, fields=(*NAME_FIELDS, "is_active", "groups"), data=data)
    changed = [name for name in changes.fields if name in NAME_FIELDS]
    if "is_active" in changes:
        changed.append("reactivated" if person.is_active else "deactivated")
    if "groups" in changes:
        changed.append(f"groups: {', '.join(sorted(g.name for g in groups)) or 'none'}")
    if _set_zone(person, time_zone):
        changed.append(f"time zone: {time_zone or 'portal default'}")
    hours = _set_working_hours(person, working_days, working_start, working_end)
    if hours:
        changed.append(hours)
    if changed:
        audit_record(by=by, obj=person, action="changed", message="Changed " + "; ".join(changed) + ".")
    return person


def refuse_to_delete_people(sender, instance, **kwargs) -> None:
    """pre_delete guard on the user model: the admin log (Django's LogEntry, whose foreign key
    cascades) must not lose a row. People are deactivated instead; the other foreign keys to
    people are PROTECT or SET_NULL."""
    entries = LogEntry.objects.filter(user=instance)
    if entries.exists():
        raise ProtectedError(f"{instance.get_username()} has change-log entries: deactivate people, do not delete them.",
                             set(entries[:10]))


def person_deactivate(*, person, by) -> User:
    """People are deactivated, never deleted: their history keeps their name, they cannot sign
    in, their API tokens stop working, and paging skips them."""
    return person_update(person=person, by=by, is_active=False)


def profile_update(*, person, first_name: str | None = None, last_name: str | None = None, time_zone: str | None = None,
                   working_days=None, working_start=None, working_end=None) -> User:
    """A person's own profile: names, time zone and working hours only."""
    fields = {k: v for k, v in (("first_name", first_name), ("last_name", last_name)) if v is not None}
    return person_update(person=person, by=person, time_zone=time_zone, working_days=working_days, working_start=working_start,
                         working_end=working_end, **fields)


