"""A postmortem as one Markdown document (export and the printable page's source)."""

from django.utils import timezone

from .models import ActionItem, Postmortem


def _name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else "unassigned"


def action_items_markdown(items) -> str:
    lines = []
    for item in items:
        due = item.due_date.isoformat() if item.due_date else "no due date"
        ticket = f" ([ticket]({item.ticket_url}))" if item.ticket_url else ""
        lines.append(
            f"- [{'x' if item.status == 'done' else ' '}] **{item.title}** ({item.get_category_display()}, {item.get_priority_display()} priority), "
            f"owner {_name(item.owner)}, due {due}, {item.get_status_display().lower()}{ticket}"
        )
    return "\n".join(lines) or "- (none)"


def postmortem_markdown(postmortem: Postmortem) -> str:
    incident = postmortem.incident
    out = [f"# {postmortem.title}", ""]
    out.append(f"- **Incident:** {incident.number} {incident.title}")
    out.append(f"- **Status:** {postmortem.get_status_display()}")
    out.append(f"- **Owner:** {_name(postmortem.owner)}")
    if postmortem.published_at:
        out.append(f"- **Published:** {timezone.localtime(postmortem.published_at):%Y-%m-%d %H:%M %Z}")
    reviewers = ", ".join(_name(u) for u in postmortem.reviewers.all())
    if reviewers:
        out.append(f"- **Reviewers:** {reviewers}")
    out.append("")
    items = list(ActionItem.objects.filter(incident=incident).select_related("owner").order_by("due_date", "pk"))
    group = None
    for section in postmortem.sections.all():
        if section.group and section.group != group:
            out += [f"## {section.group}", ""]
        group = section.group
        out += [f"{'###' if section.group else '##'} {section.title}", ""]
        body = section.body.strip()
        if section.is_action_items:
            body = "\n\n".join(t for t in (body, action_items_markdown(items)) if t)
        out += [body or "_(empty)_", ""]
    return "\n".join(out).rstrip() + "\n"
