"""What a notification says, built once by the caller; channels only format and send it."""

from dataclasses import dataclass


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
