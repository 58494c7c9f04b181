from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.html import format_html

from ..links import external_link, safe_url
from ..markdown import render_markdown
from ..rules import allowed, rule_for
from ..zones import zone_or_none

register = template.Library()


@register.filter
def markdown(text):
    return render_markdown(text)


@register.filter
def may(user, url_name):
    """`{% if request.user|may:"notifications:method_delete" %}`: show a button only to those the
    rule for that URL (its POST, else its GET) lets through (incidents/rules.py)."""
    return allowed(user, rule_for(url_name, "POST") or rule_for(url_name, "GET") or "")


# --- Times: one format everywhere, always with the zone it is in --------------------------------
# The zone is the viewer's (incidents.viewerzone activates it per request). A time reads
# "2026-12-01 14:03 CET"; a span of time "1 h 57 min"; a recent moment "12 min ago", with the
# exact time on hover; a schedule's time "14:00 America/New_York (19:00 your time)".
STAMP, STAMP_SECONDS = "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"


@register.filter
def duration(value):
    """A timedelta as '1 h 57 min', '3 min', '45 s', '2 d 4 h'."""
    if value is None:
        return "—"
    seconds = int(abs(value.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


@register.filter
def since(value):
    """How long ago `value` was, as a duration ('12 min'); '—' for none."""
    return duration(timezone.now() - value) if value else "—"


@register.filter
def between(start, end):
    """The duration from `start` to `end` (or to now while `end` is empty): '1 h 57 min'."""
    if not start:
        return "—"
    return duration((end or timezone.now()) - start)


@register.filter
def stamp(value, precision=""):
    """An aware datetime in the viewer's zone with the zone's name: '2026-12-01 14:03 CET'.
    `|stamp:"seconds"` adds the seconds (delivery logs)."""
    if not value:
        return "—"
    try:
        local = timezone.localtime(value)
    except OverflowError:  # beyond the calendar in the viewer's zone (a row from before input was bounded)
        return f"{value:%Y-%m-%d %H:%M} UTC"
    return f"{local.strftime(STAMP_SECONDS if precision == 'seconds' else STAMP)} {local.tzname()}"


@register.filter
def ago(value):
    """A <time> reading '12 min ago' (or 'in 5 min'), the exact time on hover; older than a day
    (or further ahead): the exact time itself."""
    if not value:
        return "—"
    delta = timezone.now() - value
    exact = stamp(value)
    if abs(delta) >= timedelta(days=1):
        text = exact
    elif abs(delta) < timedelta(minutes=1):
        text = "just now"
    else:
        text = f"{duration(delta)} ago" if delta.total_seconds() > 0 else f"in {duration(delta)}"
    return format_html('<time datetime="{}" title="{}">{}</time>', value.isoformat(), exact, text)


@register.simple_tag(takes_context=True)
def zoned(context, value, zone_name, fmt="%a %d %b %H:%M"):
    """{% zoned when schedule.time_zone %}: the time in the schedule's zone, named, and in the
    viewer's own zone when that differs: 'Tue 01 Dec 14:00 America/New_York (19:00 your time)'.
    The viewer's zone is the request's (a page may render inside {% timezone schedule.time_zone %})."""
    if not value:
        return "—"
    zone = zone_or_none(zone_name)
    if zone is None:
        return stamp(value)
    mine = getattr(context.get("request"), "viewer_zone", None) or timezone.get_current_timezone()
    try:
        there, here = timezone.localtime(value, zone), timezone.localtime(value, mine)
    except OverflowError:  # beyond the calendar in one of the zones
        return f"{value:%Y-%m-%d %H:%M} UTC"
    text = f"{there.strftime(fmt)} {zone_name}"
    if here.utcoffset() != there.utcoffset():
        text += f" ({here.strftime('%H:%M' if here.date() == there.date() else '%a %H:%M')} your time)"
    exact = f"{here.strftime(STAMP)} {here.tzname()}"
    return format_html('<time datetime="{}" title="{}">{}</time>', value.isoformat(), exact, text)


@register.simple_tag
def viewer_zone_name():
    """The name of the zone this page's times are in, e.g. 'Europe/Berlin'."""
    return timezone.get_current_timezone_name()


@register.filter
def person(user):
    """How a person is shown everywhere: full name, else username; "—" for nobody."""
    if user is None or user == "":
        return "—"
    return user.get_full_name() or user.get_username()


display_name = register.filter("display_name", person)  # the older name, still used by some templates


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter(name="safe_url")
def safe_url_filter(value):
    """An outside URL for href/src: itself when http(s), else "" (see incidents.links)."""
    return safe_url(value)


@register.simple_tag(name="external_link")
def external_link_tag(url, text=None):
    """{% external_link url text %}: a link when `url` is http(s), else the text alone."""
    return external_link(url, text)
