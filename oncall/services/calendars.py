"""Calendar-feed tokens: the secret in a schedule's or a person's iCalendar URL. Rotating one
stops the old URL at once (the feed views look the token up on every request)."""

from django.db import transaction

from incidents.audit import audit_record

from ..models import CalendarToken, Schedule
from ..models.schedules import new_token


def calendar_for(user) -> CalendarToken:
    """The person's feed token, made on first use."""
    token, _ = CalendarToken.objects.get_or_create(user=user)
    return token


@transaction.atomic
def schedule_rotate_calendar(*, schedule: Schedule, by) -> Schedule:
    Schedule.objects.filter(pk=schedule.pk).update(ical_token=new_token())
    schedule.refresh_from_db(fields=["ical_token"])
    audit_record(by=by, obj=schedule, action="changed", message="Rotated the calendar-feed address; the old one no longer works.")
    return schedule


@transaction.atomic
def calendar_rotate(*, user, by) -> CalendarToken:
    token = calendar_for(user)
    CalendarToken.objects.filter(pk=token.pk).update(token=new_token())
    token.refresh_from_db(fields=["token"])
    audit_record(by=by, obj=token, action="changed", message="Rotated the personal calendar-feed address; the old one no longer works.")
    return token
