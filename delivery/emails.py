"""One email template convention for every message, whatever its purpose.

A message name `<name>` is three templates under `templates/emails/`:

    emails/<name>_subject.txt   one line (rendered, then made one safe bounded line)
    emails/<name>.txt           the text part
    emails/<name>.html          the HTML part

`render(name, context)` returns the `Rendered` triple. The context always holds `site_url`;
the email channel adds `message` (the `delivery.messages.Message`) and the message's own
`context`. Apps keep their templates under `templates/emails/` with a prefix of their own
(`statuspage_update`, `postmortem_due_soon`...)."""

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string

from . import safetext

SUBJECT_LIMIT = 200
BODY_LIMIT = 100_000
DEFAULT = "notification"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(name: str, context: dict) -> Rendered:
    """The subject / text / HTML triple of message `name`. Template errors propagate (the
    channel turns them into a permanent failure: a template that does not render never will)."""
    name = name or DEFAULT
    ctx = {"site_url": settings.SITE_URL, **context}
    return Rendered(
        subject=safetext.line(render_to_string(f"emails/{name}_subject.txt", ctx), SUBJECT_LIMIT),
        text=safetext.text(render_to_string(f"emails/{name}.txt", ctx), BODY_LIMIT),
        html=safetext.text(render_to_string(f"emails/{name}.html", ctx), BODY_LIMIT * 2),
    )
