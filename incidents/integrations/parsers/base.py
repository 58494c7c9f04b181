"""What every parser produces: a list of `AlertIn`, one per alert in the delivery, or a
`PayloadError` naming what is wrong (the endpoint answers 400 with it)."""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

FIRING, ACKNOWLEDGE, RESOLVED = "firing", "acknowledge", "resolved"


class PayloadError(Exception):
    def __init__(self, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or [message]


@dataclass
class AlertIn:
    action: str  # FIRING, ACKNOWLEDGE or RESOLVED
    fingerprint: str
    group_value: str  # the kind's default grouping value (groupKey, dedup key, fingerprint)
    title: str = ""
    description: str = ""
    source_severity: str = ""
    labels: dict = field(default_factory=dict)
    annotations: dict = field(default_factory=dict)
    links: list = field(default_factory=list)
    payload: dict = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    # Values severity rules and grouping rules match on (labels plus the kind's own fields).
    fields: dict = field(default_factory=dict)
    counts_as_occurrence: bool = True  # False for a re-sent notification of the same firing


def parse_json(body: bytes):
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise PayloadError("The body is not UTF-8 text.") from None
    except ValueError as exc:
        raise PayloadError(f"The body is not valid JSON: {exc}") from None


def parse_time(value, name: str) -> datetime | None:
    """RFC 3339 (nanoseconds allowed); Go's zero time and empty values are None."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{name} must be an RFC 3339 timestamp.")
    try:
        parsed = datetime.fromisoformat(value.replace("+0000", "+00:00"))
    except ValueError:
        raise PayloadError(f"{name} is not an RFC 3339 timestamp: {value[:40]!r}.") from None
    if parsed.year <= 1:
        return None
    if parsed.tzinfo is None:
        raise PayloadError(f"{name} needs a time zone.")
    return parsed


def string_map(value, name: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{name} must be an object.")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}


def stable_fingerprint(labels: dict) -> str:
    text = "\x00".join(f"{k}\x01{labels[k]}" for k in sorted(labels))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
