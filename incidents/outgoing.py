"""What every message about an incident carries, whoever composes it (the pager, reminders,
chat): the `[DRILL]` mark on a drill's title and the war-room line in its body. Composers call
these two functions and nothing else decides it."""

from .models import Incident

DRILL_MARK = "[DRILL]"


def title(incident: Incident, text: str) -> str:
    """`text`, led by `[DRILL]` when the incident is a drill (once, whatever the caller passed)."""
    if incident.is_drill and not text.startswith(DRILL_MARK):
        return f"{DRILL_MARK} {text}"
    return text


def body_lines(incident: Incident) -> list[str]:
    """Lines every incident message adds to its body: that it is a drill, and the war room."""
    lines = []
    if incident.is_drill:
        lines.append(f"{DRILL_MARK} This is a drill: respond as you would for real.")
    if incident.war_room_url:
        lines.append(f"War room: {incident.war_room_url}")
    return lines
