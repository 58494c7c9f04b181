from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import timezone

from ..links import external_link, safe_url
from ..markdown import render_markdown
from ..rules import allowed, rule_for

register = template.Library()


@register.filter
def markdown(text):
    return render_markdown(text)


@register.filter
def may(user, url_name):
    """`{% if request.user|may:"notifications:method_delete" %}`: show a button only to those the
    rule for that URL (its POST, else its GET) lets through (incidents/rules.py)."""
    return allowed(user, rule_for(url_name, "POST") or rule_for(url_name, "GET") or "")


@register.filter
def duration(value):
    """A timedelta as '1 h 05 min', '3 min', '2 d 4 h'."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, _ = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


@register.filter(expects_localtime=False)
def any_date(value, fmt=None):
    """The `date` filter for a time that may lie beyond the calendar in the page's time zone
    (a row written before input was bounded, say an override ending 9999-12-31 23:59 UTC, which
    is year 10000 in Auckland): shown in UTC with its year then, instead of failing the page."""
    if value is None or value == "":
        return ""
    try:
        return date_filter(timezone.template_localtime(value), fmt)
    except OverflowError:
        return f"{value:%Y-%m-%d %H:%M} UTC"


@register.filter
def since(value):
    return duration(timezone.now() - value) if value else "—"


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
