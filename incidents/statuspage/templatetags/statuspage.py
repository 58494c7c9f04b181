"""The uptime bars, built in Python: 90 days times every component is the page's hottest loop,
and a cache miss under load must stay cheap."""

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from ..selectors import Bars

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
            if d.incidents:
                text = "".join(f'<span class="sp-tip-inc">{escape(pub.name)}</span>' for pub in d.incidents)
            elif d.status == "under_maintenance":
                text = " Scheduled maintenance"
            elif d.status != "operational":
                text = f" {escape(d.label)}"
            else:
                text = " No incidents"
        items.append(f'<li class="sp-bar s-{cls}"{focus}><span class="sp-tip" role="tooltip"><strong>{label}</strong>{text}</span></li>')
    return mark_safe("".join(items))  # noqa: S308 - every dynamic part is escaped above
