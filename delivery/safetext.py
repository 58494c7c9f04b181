"""Text made safe where it leaves the portal (DESIGN.md, untrusted input): mail headers, message
bodies, chat markup, JSON payloads, XML feeds, iCalendar and CSV. Whatever came in, these return text that
the far end's format accepts and shows as typed, never markup of its own.

- `text`: a body. Keeps the text and its line breaks (as `\\n`), drops NUL and other control
  characters, bidi overrides and lone surrogates (those become U+FFFD), bounded.
- `line`: one line (a mail header, a title): `text`, with every run of whitespace one space.
- `json_safe`: the same for every string inside a JSON-able value, so `json.dumps` and
  PostgreSQL's jsonb always take it.
- `mrkdwn`: Slack's escaping of `&`, `<`, `>` (no mention, channel ping or link survives).
- `url`: an http(s) URL as given, or "" for anything else (`javascript:`, `data:`, spaces...).
- `csv_cell`: a cell no spreadsheet runs as a formula (OWASP's leading `'`)."""

import re
from urllib.parse import urlsplit

BODY_LIMIT = 20_000
LINE_LIMIT = 1_000

_SURROGATE = re.compile("[\ud800-\udfff]")
_BREAK = re.compile("\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# C0 controls but tab and newline, DEL, C1 controls; bidi embeddings, overrides and isolates
# (they reorder what a reader sees: "trojan source"); the BOM, interlinear annotations and the
# two noncharacters XML refuses.
_DROP = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufff9-\ufffb\ufffe\uffff]")
_SPACE = re.compile(r"\s+")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def truncate(value: str, limit: int) -> str:
    """At most `limit` characters; a cut one ends in an ellipsis."""
    if len(value) <= limit:
        return value
    return value[: max(limit - 1, 0)].rstrip() + "…"


def text(value, limit: int = BODY_LIMIT) -> str:
    if value is None:
        return ""
    value = value if isinstance(value, str) else str(value)
    value = _SURROGATE.sub("\ufffd", value)
    value = _DROP.sub("", _BREAK.sub("\n", value))
    return truncate(value, limit)


def line(value, limit: int = LINE_LIMIT) -> str:
    return truncate(_SPACE.sub(" ", text(value, limit * 4 + 16)).strip(), limit)


def json_safe(value):
    """`value` with every string (keys too) through `text` without a length bound."""
    if isinstance(value, str):
        return text(value, limit=len(value))
    if isinstance(value, dict):
        return {json_safe(str(k)): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def mrkdwn(value: str) -> str:
    """Escape what Slack's markup reads (`<!channel>`, `<@U123>`, `<http://x|label>`, entities)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate_escaped(value: str, limit: int) -> str:
    """`truncate` for escaped text: the cut never splits an `&...;` entity."""
    if len(value) <= limit:
        return value
    cut = value[: max(limit - 1, 0)]
    amp = cut.rfind("&", max(len(cut) - 5, 0))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + "…"


def truncate_bytes(value: str, limit: int) -> str:
    """At most `limit` bytes of UTF-8 (chat services bound the request, not the characters)."""
    if len(value.encode()) <= limit:
        return value
    cut = value.encode()[: max(limit - 3, 0)].decode(errors="ignore")
    return cut.rstrip() + "…"


def url(value) -> str:
    """`value` unchanged when it is an absolute http(s) URL with a host; "" otherwise: the one
    check for every link that came from outside (messages here; hrefs through `incidents.links`).

    Browsers drop whitespace and control characters around and inside a scheme
    ("java\\tscript:"), so any of them anywhere makes the URL unsafe rather than cleaned."""
    if not isinstance(value, str) or not value:
        return ""
    if any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in value):
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or value[len(parts.scheme) + 1:][:2] != "//":
        return ""
    return value


def csv_cell(value):
    """A cell a spreadsheet shows as text: strings that begin like a formula get a leading `'`."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def csv_row(values) -> list:
    return [csv_cell(v) for v in values]
