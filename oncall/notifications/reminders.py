"""Status-update reminders, for the initial notice and then for the cadence, to the incident's
communications lead (or commander, or whoever declared it):

- first notice: when the severity names `first_notice_within` and no status update (the initial
  notice: public or to the stakeholders) was posted that long after the declaration; again
  every `first_notice_within` until one is (whatever the update policy: the "initial and
  resolution" policy's initial notice is reminded so);
- cadence: once the first update is out, when a severity with periodic updates has had none
  within its cadence.

One `UpdateReminder` row per incident holds the next due time; the sweep claims due rows with
skip_locked and a compare-and-set on `sequence`."""

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from delivery import durable
from delivery.messages import Message
from incidents import outgoing
from incidents.models import Incident, Role, UpdatePolicy

from . import services
from .models import UpdateReminder, UpdateReminderStatus

RECIPIENT_ROLES = (Role.COMMS_LEAD, Role.COMMANDER)


def cadence_for(incident: Incident):
    severity = incident.severity
    if severity.update_policy != UpdatePolicy.PERIODIC or not severity.update_cadence:
        return None
    return severity.update_cadence


def awaits_first_notice(incident: Incident) -> bool:
    """The severity asks for an initial notice and none has been posted."""
    return bool(incident.severity.first_notice_within) and not incident.updates.exists()


def interval_for(incident: Incident, first: bool | None = None):
    """How long after the last update (or the declaration) the next reminder is due; None: no
    reminder (closed, or a severity that asks for neither a first notice nor a cadence).
    `first`: `awaits_first_notice(incident)` when the caller knows it already."""
    if not incident.is_open:
        return None
    if awaits_first_notice(incident) if first is None else first:
        return incident.severity.first_notice_within
    return cadence_for(incident)


def last_update_at(incident: Incident):
    """The latest status update, or the declaration / reopening when there is none since."""
    latest = incident.updates.aggregate(m=Max("created_at"))["m"]
    reopened = incident.timeline.filter(kind="reopened").aggregate(m=Max("occurred_at"))["m"]
    return max(t for t in (incident.declared_at, latest, reopened) if t is not None)


def reminder_sync(incident: Incident) -> UpdateReminder | None:
    """Recompute the incident's next reminder after anything that moves it."""
    incident = Incident.objects.select_related("severity").get(pk=incident.pk)
    cadence = interval_for(incident)
    if cadence is None:
        UpdateReminder.objects.filter(incident=incident).update(status=UpdateReminderStatus.DONE)
        return None
    due = last_update_at(incident) + cadence
    reminder, created = UpdateReminder.objects.get_or_create(incident=incident, defaults={"due_at": due})
    if not created:
        UpdateReminder.objects.filter(pk=reminder.pk).update(due_at=due, status=UpdateReminderStatus.PENDING)
    return reminder


def recipient(incident: Incident):
    members = {m.role: m.user for m in incident.members.select_related("user").filter(role__in=RECIPIENT_ROLES)}
    for role in RECIPIENT_ROLES:
        if role in members and members[role].is_active:
            return members[role]
    return incident.declared_by


def _fire(reminder: UpdateReminder, now) -> bool:
    """Send one reminder if it is really due; otherwise move or close it. CAS on sequence."""
    incident = Incident.objects.select_related("severity").get(pk=reminder.incident_id)
    first = awaits_first_notice(incident)
    cadence = interval_for(incident, first)
    if cadence is None:
        UpdateReminder.objects.filter(pk=reminder.pk, sequence=reminder.sequence).update(status=UpdateReminderStatus.DONE)
        return False
    last = last_update_at(incident)
    expected = last + cadence
    if expected > now:
        UpdateReminder.objects.filter(pk=reminder.pk, sequence=reminder.sequence).update(due_at=expected)
        return False
    moved = UpdateReminder.objects.filter(pk=reminder.pk, sequence=reminder.sequence, status=UpdateReminderStatus.PENDING).update(
        sequence=reminder.sequence + 1, due_at=now + cadence
    )
    if not moved:
        return False
    person = recipient(incident)
    if person is None:
        return False
    minutes = int((now - last).total_seconds() // 60)
    every = int(cadence.total_seconds() // 60)
    if first:
        title = f"Initial notice due: {incident.number} {incident.title}"
        text = (f"No initial notice {minutes} minutes after the declaration; {incident.severity.key} incidents get one within "
                f"{every} minutes. Post a status update (public, or to the stakeholders) from the incident page.")
    else:
        title = f"Status update due: {incident.number} {incident.title}"
        text = (f"No status update for {minutes} minutes; {incident.severity.key} incidents get one every "
                f"{every} minutes. Post one from the incident page.")
    message = Message(
        kind="update_reminder", title=outgoing.title(incident, title),
        body="\n".join([*outgoing.body_lines(incident), ""]) + text,
        url=settings.SITE_URL + incident.get_absolute_url(), severity=incident.severity.key, incident_id=incident.pk,
    )
    services.notify_user(user=person, message=message, dedup_key=f"reminder:{incident.pk}:{reminder.sequence + 1}")
    return True


def sweep(now=None, *, budget: float | None = None) -> int:
    """Fire, here, the reminders that are due (delivery.durable.drain), each under its own row
    lock (a reminder another sweep holds is skipped)."""

    def candidates(tried: set[int]) -> list[int]:
        due = UpdateReminder.objects.filter(status=UpdateReminderStatus.PENDING, due_at__lte=now or timezone.now())
        return list(due.exclude(pk__in=tried).order_by("due_at").values_list("pk", flat=True)[:200])

    def run(pk: int) -> bool:
        with transaction.atomic():
            reminder = (UpdateReminder.objects.select_for_update(skip_locked=True)
                        .filter(pk=pk, status=UpdateReminderStatus.PENDING).first())
            return reminder is not None and _fire(reminder, now or timezone.now())

    return durable.drain(candidates, run, budget=budget)
