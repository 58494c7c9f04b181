"""What every parser produces: a `Parsed` delivery, one `AlertIn` per alert that could be read
and one `Refusal` (naming the fields) per alert that could not; or a `PayloadError` when the
delivery itself is unreadable (the endpoint answers 400 with it).

The body has been made safe before any parser sees it (`parse_json`): invalid UTF-8 replaced,
NUL and lone surrogates gone, NaN and giant numbers as strings, nesting cut short. Lengths are
bounded where the alert is stored (`bounded`)."""

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.conf import settings

from incidents import untrusted

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
    index: int = 0  # its place in the delivery, to name it when it is refused


@dataclass
class Refusal:
    index: int
    errors: list[str]


@dataclass
class Parsed:
    alerts: list[AlertIn] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


# What is stored of an alert: longer text is cut and marked (untrusted.TRUNCATED).
MAX_TITLE = 1024
MAX_DESCRIPTION = 20_000
MAX_LABEL_KEY = 256
MAX_LABEL_VALUE = 4096
MAX_ANNOTATION = 16_384
MAX_PAYLOAD_STRING = 16_384
MAX_LINK = 2048


def parse_json(body: bytes):
    """The delivery's JSON, made safe (see the module docstring); PayloadError when it is not
    JSON or nests beyond what can be parsed at all."""
    try:
        data = untrusted.loads(body, max_depth=None)
    except untrusted.NestingError as exc:
        raise PayloadError(str(exc)) from None
    except (ValueError, LookupError) as exc:
        raise PayloadError(f"The body is not valid JSON: {exc}") from None
    return untrusted.clean_json(data, max_depth=settings.INGEST_MAX_JSON_DEPTH)


# The shape of an RFC 3339 date-time, whatever its values: a value of this shape that names no
# instant the portal keeps (year 0, month 13, year 99999, 1500...) is out of the calendar.
_TIMESTAMP_SHAPE = re.compile(r"^[+-]?\d{4,}-\d{1,2}-\d{1,2}([Tt ]\d{1,2}:\d{1,2}(:\d{1,2}(\.\d+)?)?)?([Zz]|[+-]\d{2}:?\d{2})?$")
OUT_OF_CALENDAR = object()


def parse_time(value, name: str):
    """RFC 3339 (nanoseconds allowed). Go's zero time and empty values are None; a timestamp
    outside the years the portal keeps is OUT_OF_CALENDAR (the caller decides: receipt time or
    nothing); anything that is no timestamp at all is a PayloadError naming the field."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not _TIMESTAMP_SHAPE.match(value.strip()):
        raise PayloadError(f"{name} must be an RFC 3339 timestamp.")
    value = value.strip()
    if value.startswith("0001-01-01"):
        return None  # Go's zero time, in any zone
    try:
        parsed = datetime.fromisoformat(re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", value))
    except ValueError:
        return OUT_OF_CALENDAR
    if parsed.tzinfo is None:
        raise PayloadError(f"{name} needs a time zone.")
    return parsed if untrusted.in_calendar(parsed) else OUT_OF_CALENDAR


def refuse_field(exc: PayloadError, prefix: str) -> list[str]:
    return [f"{prefix}{e}" for e in exc.errors]


def _text_map(values: dict, limit: int) -> dict:
    return {untrusted.clip(untrusted.one_line(str(k)), MAX_LABEL_KEY): untrusted.clip(untrusted.clean_text(v), limit)
            if isinstance(v, str) else untrusted.clean_json(v, max_depth=8, max_string=limit) for k, v in values.items()}


def bounded(alert: AlertIn) -> AlertIn:
    """The alert as it may be stored: every text without NUL or lone surrogates, one-line
    titles, every length within its column (cut and marked), the raw payload's strings clipped."""
    clean = untrusted.clean_text
    return replace(
        alert,
        fingerprint=clean(alert.fingerprint)[:255],
        group_value=clean(alert.group_value),
        title=untrusted.clip(untrusted.one_line(alert.title), MAX_TITLE),
        description=untrusted.clip(clean(alert.description), MAX_DESCRIPTION),
        source_severity=untrusted.one_line(alert.source_severity)[:40],
        labels=_text_map(alert.labels, MAX_LABEL_VALUE),
        annotations=_text_map(alert.annotations, MAX_ANNOTATION),
        links=[{"href": untrusted.clip(untrusted.one_line(str(link.get("href", ""))), MAX_LINK),
                "text": untrusted.clip(untrusted.one_line(str(link.get("text", ""))), 200)} for link in alert.links],
        payload=untrusted.clean_json(alert.payload, max_depth=settings.INGEST_MAX_JSON_DEPTH, max_string=MAX_PAYLOAD_STRING),
        fields=_text_map(alert.fields, MAX_LABEL_VALUE),
    )


def string_map(value, name: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{name} must be an object.")
    return {str(k): v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for k, v in value.items()}


def stable_fingerprint(labels: dict) -> str:
    text = "\x00".join(f"{k}\x01{labels[k]}" for k in sorted(labels))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
