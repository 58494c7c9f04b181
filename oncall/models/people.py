"""What the portal keeps about a person beyond Django's user: their time zone."""

from django.conf import settings
from django.db import models

from incidents.zones import validate_zone


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oncall_profile")
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_zone],
                                 help_text="An IANA zone such as Europe/Berlin; empty: the portal's zone.")

    def __str__(self):
        return f"profile of {self.user}"
