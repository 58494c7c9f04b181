"""What a delivery says, built once by the purpose that composes it; channels only format and
send it.

Every field is made safe as the message is built (`delivery.safetext`): one-line title and
severity, a body without NUL, control characters or lone surrogates, http(s) links only, all
bounded. Whatever an alert said, the row can be stored (PostgreSQL's jsonb refuses NUL and lone
surrogates) and every channel can format it.

Beyond the notification fields, a message can carry what some purposes need:

- `template`: the email template name (`delivery.emails`: `emails/<name>_subject.txt`,
  `<name>.txt`, `<name>.html`); empty means `notification`. `context` is added to the
  template's context (JSON-able values only: it is stored on the row).
- `headers`: extra email headers (List-Unsubscribe...), each value one safe line.
- `attachments`: (filename, content, mimetype) triples for email (an .ics invitation...).
- `data`: a JSON document sent as it is by JSON channels (the status page's webhook format).
- `actions`: one-tap actions for the recipient, name ("acknowledge", "resolve") -> a signed URL
  that acts when POSTed to (ntfy's action buttons), and the portal URLs a phone provider calls
  back ("twiml": a call's script, "status": delivery status); per recipient and per send.
- `reply_code`: the short code a reply names this message by ("Reply 4 17 to acknowledge")."""

from dataclasses import dataclass, field

from . import safetext

TITLE_LIMIT = 500
HEADER_LIMIT = 1000


def _headers(value) -> dict:
    if not isinstance(value, dict):
        return {}
    return {safetext.line(str(k), 100): safetext.line(str(v), HEADER_LIMIT) for k, v in value.items() if str(k).strip()}


def _attachments(value) -> tuple:
    out = []
    for item in value or ():
        if isinstance(item, (list, tuple)) and len(item) == 3:
            name, content, mimetype = item
            out.append((safetext.line(str(name), 200), safetext.text(str(content), 200_000), safetext.line(str(mimetype), 200)))
    return tuple(out)


def _actions(value) -> dict:
    if not isinstance(value, dict):
        return {}
    return {safetext.line(str(k), 40): link for k, v in value.items() if (link := safetext.url(v))}


@dataclass(frozen=True)
class Message:
    """`incident_id` set: the recipient also gets a signed, expiring one-click acknowledge link
    for that incident and themselves (`ack_url`, filled in per recipient at send time by the
    purpose that composes it)."""

    kind: str
    title: str
    body: str
    url: str = ""
    severity: str = ""
    incident_id: int | None = None
    ack_url: str = ""
    template: str = ""
    context: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    attachments: tuple = ()
    data: dict = field(default_factory=dict)
    actions: dict = field(default_factory=dict)
    reply_code: str = ""

    def __post_init__(self):
        for name, clean in (("kind", lambda v: safetext.line(v, 100)), ("title", lambda v: safetext.line(v, TITLE_LIMIT)),
                            ("body", safetext.text), ("url", safetext.url), ("severity", lambda v: safetext.line(v, 40)),
                            ("ack_url", safetext.url), ("template", lambda v: safetext.line(v, 100)),
                            ("context", lambda v: safetext.json_safe(v) if isinstance(v, dict) else {}),
                            ("headers", _headers), ("attachments", _attachments),
                            ("data", lambda v: safetext.json_safe(v) if isinstance(v, dict) else {}),
                            ("actions", _actions), ("reply_code", lambda v: safetext.line(str(v or ""), 10))):
            object.__setattr__(self, name, clean(getattr(self, name)))
        if not isinstance(self.incident_id, int) or isinstance(self.incident_id, bool):
            object.__setattr__(self, "incident_id", None)

    @property
    def bare_title(self) -> str:
        """The title without a leading `[P1]` tag (shown beside it as a badge)."""
        tag = f"[{self.severity}]"
        title = self.title.removeprefix(tag).lstrip() if self.severity else self.title
        return title or "(no title)"

    @property
    def headline(self) -> str:
        """`[P1] title`: the severity tag once, also when the title already starts with it."""
        return f"[{self.severity}] {self.bare_title}" if self.severity else self.bare_title

    def as_dict(self) -> dict:
        """What is stored on the row (`Delivery.message`); `ack_url` is not (it is per send)."""
        data = {
            "kind": self.kind, "title": self.title, "body": self.body, "url": self.url,
            "severity": self.severity, "incident_id": self.incident_id,
        }
        for name in ("template", "context", "headers", "data"):
            if getattr(self, name):
                data[name] = getattr(self, name)
        if self.attachments:
            data["attachments"] = [list(a) for a in self.attachments]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Message":
        return cls(
            kind=data.get("kind", ""), title=data.get("title", ""), body=data.get("body", ""),
            url=data.get("url", ""), severity=data.get("severity", ""), incident_id=data.get("incident_id"),
            template=data.get("template", ""), context=data.get("context") or {}, headers=data.get("headers") or {},
            attachments=tuple(tuple(a) for a in data.get("attachments") or ()), data=data.get("data") or {},
        )
