"""Message formats: one neutral card, rendered for each chat.

    card = {"title": ..., "text": ..., "fields": [[label, value], ...], "url": ...,
            "buttons": [["ack", "Acknowledge"], ...], "incident": pk, "footer": ...}

Every string in a card may come from outside (titles, notes, summaries): Slack gets it in
`mrkdwn` with `&`, `<`, `>` escaped (no `<!channel>`, no `<@U1>`, no disguised link) or in
`plain_text`; Mattermost gets its Markdown characters escaped and every `@` broken so that no
`@channel` or `@someone` mention fires. Each field stays within the chat's limits."""

import re

from django.core import signing

from delivery import safetext

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
TOPIC_LIMIT = 250  # Slack: a channel topic
MM_LIMIT = 16_000  # Mattermost: a post
MM_HEADER_LIMIT = 1024
ACTION_SALT = "chatops.action"
BUTTON_STYLES = {"ack": "primary", "resolve": "primary", "escalate": "danger"}


def card(*, title: str, text: str = "", fields=(), url: str = "", buttons=(), incident: int | None = None, footer: str = "") -> dict:
    return {"title": safetext.line(title, 500), "text": safetext.text(text, 10_000),
            "fields": [[safetext.line(str(a), 100), safetext.line(str(b), 500)] for a, b in fields],
            "url": safetext.url(url), "buttons": [[str(a), str(b)] for a, b in buttons], "incident": incident,
            "footer": safetext.line(footer, 500)}


def slack_text(value: str, limit: int = SECTION_LIMIT) -> str:
    return safetext.truncate_escaped(safetext.mrkdwn(value or ""), limit)


def slack_message(c: dict) -> dict:
    blocks = []
    if c.get("title"):
        blocks.append({"type": "header", "text": {"type": "plain_text", "text": safetext.truncate(c["title"], HEADER_LIMIT)}})
    if c.get("text", "").strip():
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": slack_text(c["text"])}})
    if c.get("fields"):
        blocks.append({"type": "section", "fields": [
            {"type": "mrkdwn", "text": slack_text(f"{a}: {b}", 2000)} for a, b in c["fields"][:10]]})
    elements = []
    for action, label in c.get("buttons") or ():
        button = {"type": "button", "action_id": action, "text": {"type": "plain_text", "text": label}, "value": str(c.get("incident") or "")}
        if BUTTON_STYLES.get(action):
            button["style"] = BUTTON_STYLES[action]
        elements.append(button)
    if c.get("url"):
        elements.append({"type": "button", "action_id": "open", "text": {"type": "plain_text", "text": "Open"}, "url": c["url"]})
    if elements:
        blocks.append({"type": "actions", "elements": elements})
    if c.get("footer"):
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": slack_text(c["footer"], 2000)}]})
    fallback = slack_text(": ".join(p for p in (c.get("title"), c.get("text")) if p) or "(empty)", SECTION_LIMIT)
    return {"text": fallback, "blocks": blocks}


def slack_topic(value: str) -> str:
    return safetext.truncate(safetext.line(value, 1000), TOPIC_LIMIT)


_MD = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def mm_text(value: str, limit: int = MM_LIMIT) -> str:
    """Mattermost Markdown made literal: special characters escaped, `@` mentions and `~`
    channel links broken with a zero-width joiner."""
    escaped = _MD.sub(r"\\\1", value or "").replace("@", "@\u2060").replace("<", "&lt;").replace(">", "&gt;")
    return safetext.truncate(escaped, limit)


def action_context(action: str, incident: int | None, workspace: int) -> dict:
    """What a Mattermost button sends back: signed, since Mattermost does not sign actions."""
    return {"action": action, "incident": incident, "workspace": workspace,
            "sig": signing.dumps([action, incident, workspace], salt=ACTION_SALT, compress=True)}


def mattermost_post(c: dict) -> dict:
    action_url, workspace = c.get("action_url", ""), c.get("workspace", 0)
    attachment = {"fallback": mm_text(c["title"], 500), "title": mm_text(c["title"], 500), "text": mm_text(c.get("text", "")),
                  "fields": [{"title": mm_text(a, 100), "value": mm_text(b, 500), "short": True} for a, b in c.get("fields") or ()]}
    if c.get("url"):
        attachment["title_link"] = c["url"]
    if c.get("footer"):
        attachment["footer"] = mm_text(c["footer"], 500)
    if c.get("buttons") and action_url:
        attachment["actions"] = [
            {"id": action, "name": label, "type": "button", "style": BUTTON_STYLES.get(action, "default"),
             "integration": {"url": action_url, "context": action_context(action, c.get("incident"), workspace)}}
            for action, label in c["buttons"]]
    return {"message": "", "props": {"attachments": [attachment]}}


def mattermost_header(value: str) -> str:
    return safetext.truncate(mm_text(safetext.line(value, 2000), MM_HEADER_LIMIT), MM_HEADER_LIMIT)


_NAME = {"slack": (80, re.compile(r"[^a-z0-9_-]+")), "mattermost": (64, re.compile(r"[^a-z0-9_-]+"))}


def channel_name(kind: str, pattern: str, incident) -> str:
    """The incident's channel name from the workspace's pattern, within the chat's rules
    (Slack: lower case, digits, `-` and `_`, 80 characters; Mattermost: the same, 64)."""
    number = incident.number  # INC-20261130-007
    parts = number.split("-")
    date, seq = (parts[1], parts[2]) if len(parts) >= 3 else ("", number)
    slug = re.sub(r"[^a-z0-9]+", "-", (incident.title or "").lower()).strip("-")[:40].strip("-")
    try:
        name = pattern.format(date=date, seq=seq, slug=slug, number=number.lower())
    except (KeyError, IndexError, ValueError):
        name = f"inc-{date}-{seq}-{slug}"
    limit, bad = _NAME.get(kind, _NAME["slack"])
    name = bad.sub("-", name.lower()).strip("-_")
    name = re.sub(r"-{2,}", "-", name)[:limit].strip("-_")
    return name or f"inc-{date}-{seq}"


DECLARE_CALLBACK = "incident_declare"


def slack_declare_view(*, title: str, severities, services, channel: str) -> dict:
    """The modal `/incident declare` opens on Slack: title, severity, services."""
    def option(label, value):
        return {"text": {"type": "plain_text", "text": safetext.truncate(label, 75)}, "value": str(value)[:150]}

    blocks = [
        {"type": "input", "block_id": "title", "label": {"type": "plain_text", "text": "Title"},
         "element": {"type": "plain_text_input", "action_id": "title", "max_length": 200,
                     **({"initial_value": safetext.truncate(title, 200)} if title else {})}},
        {"type": "input", "block_id": "severity", "label": {"type": "plain_text", "text": "Severity"},
         "element": {"type": "static_select", "action_id": "severity",
                     "options": [option(f"{s.key} {s.label}", s.key) for s in severities][:100]}},
    ]
    services = [option(s.name, s.pk) for s in services][:100]
    if services:
        blocks.append({"type": "input", "block_id": "services", "optional": True, "label": {"type": "plain_text", "text": "Services"},
                       "element": {"type": "multi_static_select", "action_id": "services", "options": services}})
    return {"type": "modal", "callback_id": DECLARE_CALLBACK, "private_metadata": channel[:64],
            "title": {"type": "plain_text", "text": "Declare an incident"},
            "submit": {"type": "plain_text", "text": "Declare"}, "blocks": blocks}
