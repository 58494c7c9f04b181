"""What a notification says, built once by the caller; channels only format and send it.

Every field is made safe as the message is built (`incidents.safetext`): one-line title and
severity, a body without NUL, control characters or lone surrogates, http(s) links only, all
bounded. Whatever an alert said, the row can be stored (PostgreSQL's jsonb refuses NUL and lone
surrogates) and every channel can format it."""

from dataclasses import dataclass

from incidents import safetext

TITLE_LIMIT = 500


@dataclass(frozen=True)
class Message:
    """`incident_id` set: the recipient also gets a signed, expiring one-click acknowledge link
    for that incident and themselves (`ack_url`, filled in per recipient at send time)."""

    kind: str
    title: str
    body: str
    url: str = ""
    severity: str = ""
    incident_id: int | None = None
    ack_url: str = ""

    def __post_init__(self):
        for name, clean in (("kind", lambda v: safetext.line(v, 100)), ("title", lambda v: safetext.line(v, TITLE_LIMIT)),
                            ("body", safetext.text), ("url", safetext.url), ("severity", lambda v: safetext.line(v, 40)),
                            ("ack_url", safetext.url)):
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
        return {
            "kind": self.kind, "title": self.title, "body": self.body, "url": self.url,
            "severity": self.severity, "incident_id": self.incident_id,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Message":
        return cls(
            kind=data.get("kind", ""), title=data.get("title", ""), body=data.get("body", ""),
            url=data.get("url", ""), severity=data.get("severity", ""), incident_id=data.get("incident_id"),
        )
