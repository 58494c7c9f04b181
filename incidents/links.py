"""Links that came from outside (alert payloads, people, settings) are rendered only when they
are absolute http(s) URLs: the one check every href and src built from such data goes through
(templates use the `safe_url` filter and the `external_link` tag in `incidents.templatetags.portal`)."""

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString

from delivery import safetext

safe_url = safetext.url


def external_link(url, text=None) -> SafeString:
    """An <a> to `url` when it is safe (never sending the portal's address along), else `text`
    (or the URL itself) as plain text."""
    label = url if text in (None, "") else text
    href = safe_url(url)
    if not href:
        return escape(label if isinstance(label, str) else "")
    return format_html('<a href="{}" rel="noopener noreferrer nofollow">{}</a>', href, label)
