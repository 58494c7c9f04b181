"""What the portal keeps about a person beyond Django's user: their time zone and working hours
(low-urgency incidents notify them inside those hours only; `oncall.workhours`)."""

from datetime import time

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from incidents.zones import validate_zone


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oncall_profile")
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_zone],
                                 help_text="An IANA zone such as Europe/Berlin; empty: the zone of a schedule they are "
                                           "on, else the portal's zone.")
    working_days = models.CharField(
        max_length=7, default="12345",
        validators=[RegexValidator(r"^(?!.*(.).*\1)[1-7]{1,7}$", "Use the digits 1 (Monday) to 7 (Sunday), each once.")],
        help_text="ISO weekdays a working period starts on (1 Monday … 7 Sunday), e.g. 12345 for Monday to Friday.")
    working_start = models.TimeField(default=time(9), help_text="Start of the working period, in the person's zone.")
    working_end = models.TimeField(
        default=time(17), help_text="End of the working period; earlier than the start: it ends the next day (night shift).")

    def __str__(self):
        return f"profile of {self.user}"
