"""Property tests (Hypothesis) over every channel's message builder: whatever text an alert or a
person brings (any code point, control characters, NUL, lone surrogates, bidi overrides, chat
markup, megabyte strings), building never raises, mail headers are valid for Python's email
package, Slack text carries no markup of the input's, JSON always encodes; and the rows that
carry the message are stored by the configured database (SQLite or PostgreSQL)."""

import datetime as dt
import json
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import SimpleNamespace

import pytest
from django.core import mail
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from delivery import outbox, safetext
from delivery.channels import Destination, channel_for
from delivery.channels.slack import FALLBACK_LIMIT, HEADER_LIMIT, SECTION_LIMIT
from delivery.messages import Message
from delivery.models import DeliveryStatus
from incidents.models import Incident
from oncall import calendar
from oncall.notifications import services
from tests.incidents.factories import declare

from .factories import email_method, webhook_method

NASTY = [
    "\r", "\n", "\r\n", "\x00", "\t", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\ud800", "\udfff",
    "\udbff\udc00", "\u202e", "\u202d", "\u2066", "\ufeff", "\u200b", "<!channel>", "<!here>", "<@U123>",
    "<http://evil.example|click>", "&", "&amp;", "&lt;", "<", ">", "**bold**", "[x](javascript:alert(1))",
    "{{DATE(2017-02-14T06:00:00Z, SHORT)}}", "=cmd|' /C calc'!A0", "Bcc: victim@example.com", "=?utf-8?q?x?=", " ", "é", "😀",
    "\u0645\u0631\u062d\u0628\u0627",
]
# Any code point, surrogates and controls included, mixed with the pieces above.
pieces = st.one_of(st.characters(codec=None, exclude_categories=()), st.sampled_from(NASTY),
                   st.text(st.characters(codec=None, exclude_categories=()), max_size=30))
hostile = st.lists(pieces, max_size=40).map("".join)
huge = st.builds(lambda unit, n: unit * n, st.lists(pieces, min_size=1, max_size=5).map("".join), st.integers(10_000, 200_000))
anything = st.one_of(hostile, hostile, hostile, huge)
urls = st.one_of(st.just("https://portal.example/incidents/INC-1/"), st.just("javascript:alert(1)"), st.just("data:text/html,x"),
                 st.just("http://h.example/a b"), hostile)

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                       HealthCheck.function_scoped_fixture])


def message(title, body, url="https://portal.example/incidents/INC-1/", severity="P1") -> Message:
    return Message(kind="incident.page", title=title, body=body, url=url, severity=severity, incident_id=1,
                   ack_url="https://portal.example/ack/token/")


messages = st.builds(message, title=anything, body=anything, url=urls, severity=hostile)


def unescaped(text: str) -> bool:
    """True when `text` has a `<`, `>` or an `&` that does not start Slack's three entities."""
    return "<" in text or ">" in text or bool(re.search(r"&(?!amp;|lt;|gt;)", text))


def channel(kind, target="https://hooks.example/x", secret="whsec_" + "A" * 44):
    return channel_for(kind, Destination(target=target, secret=secret, message_id="msg_1"))


@PROPERTY
@given(title=anything, body=anything, url=urls, severity=hostile)
def test_a_message_is_built_from_anything_and_is_safe_to_store(title, body, url, severity):
    m = message(title, body, url, severity)
    for value in (m.title, m.severity, m.kind, m.headline):
        assert "\n" not in value and "\r" not in value and len(value) <= 600
    for value in m.as_dict().values():
        if isinstance(value, str):
            assert "\x00" not in value and not re.search("[\ud800-\udfff]", value)
            value.encode()
    assert m.url in ("", url) and (not m.url or m.url.startswith(("http://", "https://")))
    assert not m.headline.startswith(f"[{m.severity}] [{m.severity}]") or not m.severity
    json.dumps(m.as_dict(), ensure_ascii=False).encode()


@PROPERTY
@given(title=anything, body=anything, severity=hostile)
def test_email_builds_with_headers_pythons_email_package_accepts(title, body, severity, settings):
    settings.SITE_URL = "https://portal.example"
    built = channel("email", target="a@example.com, b@example.com").build(message(title, body, severity=severity))
    raw = built.message().as_bytes(linesep="\r\n")
    parsed = message_from_bytes(raw, policy=policy.SMTP)
    assert parsed.as_bytes()  # serialised again by policy SMTP
    subject = str(parsed["Subject"]).strip()
    assert "\r" not in subject and "\n" not in subject and len(subject) <= 200
    assert parsed["Bcc"] is None and parsed.get_all("Subject") == [parsed["Subject"]]
    assert [a.strip() for a in parsed["To"].split(",")] == ["a@example.com", "b@example.com"]
    modern = EmailMessage(policy=policy.SMTP)  # the strict API refuses CR/LF in a header value
    modern["Subject"] = built.subject
    modern["X-Portal-Notification"] = built.extra_headers["X-Portal-Notification"]
    modern.set_content(built.body)
    modern.as_bytes()
    text = parsed.get_body(preferencelist=("plain",)).get_content()
    assert "\x00" not in text


@PROPERTY
@given(m=messages)
def test_slack_payload_carries_no_markup_from_the_input(m):
    slack = channel("slack")
    payload = slack.payload(m)
    json.loads(slack.body(m))
    header, *rest = payload["blocks"]
    assert header["text"]["type"] == "plain_text" and 0 < len(header["text"]["text"]) <= HEADER_LIMIT
    for block in rest:
        if block["type"] == "section":
            text = block["text"]["text"]
            assert len(text) <= SECTION_LIMIT and not unescaped(text) and text.strip()
        else:
            assert all(e["url"].startswith("https://") for e in block["elements"])
    fallback = payload["text"]
    suffix = f": <{safetext.mrkdwn(m.url)}>" if m.url else ""
    assert fallback.endswith(suffix)
    head = fallback[: len(fallback) - len(suffix)]
    assert len(head) <= FALLBACK_LIMIT and not unescaped(head)


@PROPERTY
@given(m=messages)
def test_teams_card_has_no_markdown_field_and_fits_a_teams_message(m):
    raw = channel("teams").body(m)
    assert len(raw) <= 28_000
    card = json.loads(raw)["attachments"][0]["content"]
    for element in card["body"]:
        assert element["type"] == "RichTextBlock"  # TextRuns: Adaptive Cards read no Markdown there
        for run in element["inlines"]:
            assert run["type"] == "TextRun" and "{{" not in run["text"] and "}}" not in run["text"]
    for action in card.get("actions", []):
        assert action["url"].startswith(("http://", "https://"))


@PROPERTY
@given(m=messages)
def test_webhook_json_always_encodes_and_says_what_the_message_says(m):
    hook = channel("webhook")
    raw = hook.body(m)
    data = json.loads(raw)["data"]
    assert data["title"] == m.title and data["body"] == m.body and data["url"] == m.url
    assert "\\ud8" not in raw.decode() and "\\udc" not in raw.decode()
    assert hook.headers(raw)["webhook-signature"].startswith("v1,")


@PROPERTY
@given(name=anything, person=anything)
def test_ical_event_text_parses_back_as_one_line(name, person, settings):
    settings.SITE_URL = "https://portal.example"
    schedule = SimpleNamespace(pk=1, name=name)
    user = SimpleNamespace(pk=2, username="u", get_full_name=lambda: person)
    cal = calendar._calendar(f"On call: {name}")
    start = dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)
    cal.add_component(calendar._event(schedule, start, start + dt.timedelta(hours=8), user, start))
    raw = cal.to_ical()
    assert not re.search(rb"[\x00-\x08\x0b-\x1f\x7f]", raw.replace(b"\r\n", b""))
    event = Calendar.from_ical(raw).walk("VEVENT")[0]
    summary = str(event["SUMMARY"])
    assert summary == safetext.line(f"On call: {name} ({person or 'u'})", 500)


@given(value=anything)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_csv_cells_never_start_a_formula(value):
    cell = safetext.csv_cell(value)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert cell == value or cell == "'" + value


@PROPERTY
@given(subject=anything, text=anything, html=anything)
def test_status_page_subscriber_email_builds_whatever_the_row_holds(subject, text, html):
    """A status-page row as the carry-over migration stores it (rendered subject, text, HTML),
    through the delivery layer's email and status page webhook channels."""
    message = Message.from_dict({"kind": "update", "title": subject, "body": text, "template": "statuspage_message",
                                 "context": {"html": html, "unsubscribe_url": "http://127.0.0.1:8000/status/unsubscribe/x/"},
                                 "headers": {"List-Unsubscribe": "<http://127.0.0.1:8000/status/unsubscribe/x/>"}})
    built = channel_for("email", Destination(target="reader@example.com", message_id="msg_1")).build(message)
    parsed = message_from_bytes(built.message().as_bytes(linesep="\r\n"), policy=policy.SMTP)
    assert parsed.as_bytes()
    assert "\n" not in str(parsed["Subject"]).strip() and len(str(parsed["Subject"]).strip()) <= 200
    webhook = channel_for("statuspage_webhook", Destination(target="https://hooks.example.com/x"))
    json.loads(webhook.body(Message(kind="update", title="", body="", data={"incident": {"name": subject, "body": [text, {html: 1}]}})))


@pytest.mark.django_db
@PROPERTY
@given(title=anything, body=anything)
def test_rows_are_stored_and_sent_whatever_the_message_says(title, body, responder, receiver, settings):
    """On the configured database: PostgreSQL refuses NUL and lone surrogates in jsonb and text."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    incident = Incident.objects.filter(title="Property").first() or declare(by=responder, title="Property")
    if not responder.contact_methods.exists():
        email_method(responder, rate_limit_count=30_000)
        webhook_method(responder, f"{receiver.url}/p", kind="slack", rate_limit_count=30_000)
    mail.outbox = []
    page = Message(kind="incident.page", title=title, body=body, url="https://portal.example/i/", severity="P1", incident_id=incident.pk)
    rows = services.notify_user(user=responder, message=page, dedup_key=f"p:{timezone.now().isoformat()}")
    assert len(rows) == 2
    for row in rows:
        outbox.deliver(row.pk)
        row.refresh_from_db()
        assert row.status == DeliveryStatus.SENT, row.error
    [sent] = mail.outbox
    assert "\n" not in sent.subject
