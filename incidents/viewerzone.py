"""Whose clock a page is shown in: the viewer's zone, activated per request.

The zone is the person's Profile.time_zone when set, else the browser's (static/js/tz.js keeps
the `tz` cookie equal to Intl.DateTimeFormat().resolvedOptions().timeZone), else the portal's
TIME_ZONE. The template filters in incidents/templatetags/portal.py then print every time in
it, with its name. The public status page is rendered for everyone (and cached), so it is left
out: its views render in UTC and its script shows the reader's local time."""

import zoneinfo

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from .zones import portal_zone, zone_or_none

COOKIE = "tz"
PROFILE, BROWSER, PORTAL = "profile", "browser", "portal"


def viewer_zone(request) -> tuple[zoneinfo.ZoneInfo, str]:
    """(zone, where it came from: PROFILE, BROWSER or PORTAL) for this request's viewer."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        try:
            zone = zone_or_none(user.oncall_profile.time_zone)
        except ObjectDoesNotExist:
            zone = None
        if zone is not None:
            return zone, PROFILE
    zone = zone_or_none(request.COOKIES.get(COOKIE))
    if zone is not None:
        return zone, BROWSER
    return portal_zone(), PORTAL


class ViewerTimeZoneMiddleware:
    """Activates the viewer's zone for the request (after AuthenticationMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone, source = viewer_zone(request)
        request.viewer_zone, request.viewer_zone_source = zone, source
        timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
