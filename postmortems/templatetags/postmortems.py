from django import template

from ..reports import fmt_seconds

register = template.Library()


@register.filter
def seconds(value):
    """Seconds as '4 min', '1 h 05 min', '3 d 2 h'."""
    return fmt_seconds(value)


@register.filter
def percent(value):
    return "—" if value is None else f"{value * 100:.0f}%"


@register.filter
def overdue(item, today):
    return bool(item.is_open and item.due_date and item.due_date < today)


@register.filter
def get_index(values, index):
    try:
        return values[index]
    except (IndexError, TypeError):
        return ""
