"""Links that came from outside (alert payloads, people, settings) are rendered only when they
are absolute http(s) URLs: the one check every href and src built from such data goes through
(templates use the `safe_url` filter and the `external_link` tag in `incidents.templatetags.portal`)."""

from urllib.parse import urlsplit

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString

SAFE_SCHEMES = ("http", "https")


def safe_url(value) -> str:
    """`value` unchanged when it is an absolute http(s) URL with a host; "" otherwise.

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
    if parts.scheme.lower() not in SAFE_SCHEMES or not parts.netloc or value[len(parts.scheme) + 1:][:2] != "//":
        return ""
    return value


def external_link(url, text=None) -> SafeString:
    """An <a> to `url` when it is safe (never sending the portal's address along), else `text`
    (or the URL itself) as plain text."""
    label = url if text in (None, "") else text
    href = safe_url(url)
    if not href:
        return escape(label if isinstance(label, str) else "")
    return format_html('<a href="{}" rel="noopener noreferrer nofollow">{}</a>', href, label)
