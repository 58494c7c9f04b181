"""The uptime bars, built in Python: 90 days times every component is the page's hottest loop,
and a cache miss under load must stay cheap."""

from datetime import timedelta

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from incidents.templatetags.portal import duration

from ..models import STATUS_RANK, ComponentStatus, worst
from ..selectors import Bars, Day

register = template.Library()


@register.simple_tag
def uptime_bars(bars: Bars) -> str:
    items = []
    for d in bars.days:
        label = f"{d.day:%b} {d.day.day}, {d.day.year}"
        if d.future:
            cls, focus, text = "none", "", " No data"
        else:
            cls = d.status
            focus = ' tabindex="0"' if d.incidents or d.status != "operational" else ""
            text = _spans(d) + "".join(f'<span class="sp-tip-inc">{escape(pub.name)}</span>' for pub in d.incidents)
            if not text:
                text = " No incidents"
        items.append(f'<li class="sp-bar s-{cls}"{focus}><span class="sp-tip" role="tooltip"><strong>{label}</strong>{text}</span></li>')
    return mark_safe("".join(items))  # noqa: S308 - every dynamic part is escaped above


def _spans(day: Day) -> str:
    """'Partial outage · 2 h 5 min' a line, worst first: what the day's colour stands for."""
    order = sorted(day.spans.items(), key=lambda item: STATUS_RANK[ComponentStatus(item[0])], reverse=True)
    return "".join(f'<span class="sp-tip-span">{escape(ComponentStatus(status).label)} · {duration(timedelta(seconds=seconds))}</span>'
                   for status, seconds in order if seconds >= 1)


@register.filter
def worst_state(components) -> str:
    """The worst current state among `components` (a group's summary)."""
    return worst(c.status for c in components)


@register.filter
def state_label(status: str) -> str:
    return ComponentStatus(status).label
