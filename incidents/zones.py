"""Time zones: which names the portal accepts, and the defaults. One home for every app.

Whatever takes a zone name from people (schedules, people's profiles, the status page's
settings; through the pages, the admin or the API) checks it here: services call `check_zone`
(InvalidInput), model fields carry `validate_zone` (ValidationError), pickers offer `choices()`,
so a name one entry point accepts is accepted by all. A name from outside that only selects how
something is shown (the browser's cookie) goes through `zone_or_none`, which never raises.
"""

import functools
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError

from .exceptions import InvalidInput

MAX_LENGTH = 64  # the longest IANA name is about half of this
# A new on-call schedule's zone unless told otherwise (the reference procedures' teams).
SCHEDULE_DEFAULT = "America/New_York"
# The public status page's zone in its JSON; its pages show UTC and each reader's local time.
STATUS_PAGE_DEFAULT = "Etc/UTC"
HINT = "Use an IANA name such as America/New_York or Europe/Berlin."


@functools.cache
def names() -> frozenset[str]:
    """Every zone name the portal accepts: the IANA names the system's zone database knows."""
    return frozenset(zoneinfo.available_timezones())


def is_zone(name) -> bool:
    return isinstance(name, str) and 0 < len(name) <= MAX_LENGTH and name in names()


def _refusal(name) -> str:
    shown = name[:MAX_LENGTH] if isinstance(name, str) else ""
    return f"Unknown time zone “{shown}”. {HINT}"


def check_zone(name) -> None:
    """For services: a zone name the portal accepts, or InvalidInput on the field `time_zone`."""
    if not is_zone(name):
        raise InvalidInput(_refusal(name), field="time_zone")


def validate_zone(value) -> None:
    """For model fields (`validators=[validate_zone]`): the same rule as `check_zone`."""
    if not is_zone(value):
        raise ValidationError(_refusal(value), code="time_zone")


def zone_or_none(name) -> zoneinfo.ZoneInfo | None:
    """The zone called `name`, or None when the portal does not accept the name."""
    return zoneinfo.ZoneInfo(name) if is_zone(name) else None


def portal_zone() -> zoneinfo.ZoneInfo:
    """The portal's own zone (TIME_ZONE): times of people who set none and whose browser says nothing."""
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def choices() -> list[tuple[str, str]]:
    """What a zone picker offers: every accepted name, sorted."""
    return [(name, name) for name in sorted(names())]
