"""Hostile text in what a page says (alert summaries, incident titles) never makes a send fail:
real SMTP (aiosmtpd) and a real HTTP receiver stand for the far ends."""

import json

import pytest

from delivery.messages import Message
from delivery.models import Delivery, DeliveryStatus
from incidents.events import run_subscribers
from incidents.models import TimelineEvent
from oncall.notifications import services
from tests.incidents.factories import declare

from .factories import email_method, page_message, webhook_method
from .test_delivery import deliver_all as deliver

pytestmark = pytest.mark.django_db
S = DeliveryStatus

NASTY_TITLES = [
    "Disk full\r\nBcc: victim@example.com",
    "CPU\rhigh",
    "line one\nline two",
    "nul\x00byte",
    "lone \ud800 surrogate",
    "rtl \u202eevil\u202c override",
    "tab\tand\x0bvertical\x0cfeed\x1bescape\x7f\x85",
    "p95 > 3 s & <rising>",
    "x" * 100_000,
    "",
    "   \r\n  ",
]


def hostile(incident, title: str) -> Message:
    return Message(kind="incident.page", title=title, body=f"Summary: {title}\r\nmore\x00 text \udfff end",
                   url=f"http://testserver{incident.get_absolute_url()}", severity="P1", incident_id=incident.pk)


def test_carriage_return_in_a_title_does_not_fail_the_email_page(smtp_server, responder):
    incident = declare(by=responder, title="Checkout is down")
    email_method(responder)
    message = page_message(incident, title=f"{incident.number} Checkout\r is down\nBcc: victim@example.com")
    [row] = deliver(services.notify_user(user=responder, message=message, dedup_key="k"))
    assert row.status == S.SENT, row.error

    [mail] = smtp_server.wait_for(1)
    assert mail.recipients == ["responder@example.com"]
    subject = mail.message["Subject"]
    assert "\r" not in subject and "\n" not in subject
    assert subject == f"[P1] {incident.number} Checkout is down Bcc: victim@example.com"
    assert mail.message["Bcc"] is None


@pytest.mark.parametrize("title", NASTY_TITLES, ids=range(len(NASTY_TITLES)))
def test_nasty_titles_reach_a_real_smtp_server_and_a_real_webhook(smtp_server, receiver, responder, title):
    incident = declare(by=responder, title="Hostile")
    email_method(responder)
    webhook_method(responder, f"{receiver.url}/hook")
    webhook_method(responder, f"{receiver.url}/slack", kind="slack")
    webhook_method(responder, f"{receiver.url}/teams", kind="teams")
    rows = deliver(services.notify_user(user=responder, message=hostile(incident, title), dedup_key="k"))
    assert [r.status for r in rows] == [S.SENT] * 4, [r.error for r in rows]

    [mail] = smtp_server.wait_for(1)
    subject = mail.message["Subject"].strip()  # a long word is folded onto the next line
    assert subject.startswith("[P1] ") and len(subject) <= 200
    assert not any(ch in subject for ch in "\r\n\x00\x0b\x0c\x1b\x7f\x85\u202e")
    text = mail.part("text/plain")
    assert "\x00" not in text and "Summary: " in text and ("more" in text or len(title) > 10_000)
    for path in ("/hook", "/slack", "/teams"):
        [req] = receiver.for_path(path)
        assert "\\ud800" not in req.body.decode() and "\\udfff" not in req.body.decode()
        json.loads(req.body)


def test_plain_text_email_shows_text_as_typed_and_one_severity_tag(smtp_server, responder):
    incident = declare(by=responder, title="Latency")
    email_method(responder)
    message = page_message(incident, title=f"[P1] {incident.number} p95 > 3 s & <rising>")
    message = Message(**{**message.as_dict(), "body": "p95 > 3 s & \"quoted\" 'single'"})
    deliver(services.notify_user(user=responder, message=message, dedup_key="k"))
    [mail] = smtp_server.wait_for(1)
    assert mail.message["Subject"] == f"[P1] {incident.number} p95 > 3 s & <rising>"
    text = mail.part("text/plain")
    assert "p95 > 3 s & \"quoted\" 'single'" in text
    assert "&gt;" not in text and "&amp;" not in text and "&quot;" not in text and "&#x27;" not in text
    assert "[P1] [P1]" not in text


@pytest.mark.parametrize("status", [200, 410, 500])
def test_a_receivers_answer_with_nul_bytes_and_bad_utf8_is_recorded(receiver, responder, status):
    """PostgreSQL refuses NUL in text: the answer is stored made safe, the outcome recorded."""
    receiver.behaviour["/odd"] = (status, 0, b"ok\x00\xff\xfe \xed\xa0\x80 done")
    incident = declare(by=responder)
    webhook_method(responder, f"{receiver.url}/odd")
    [row] = deliver(services.notify_user(user=responder, message=page_message(incident), dedup_key="k"))
    assert row.status == {200: S.SENT, 410: S.FAILED, 500: S.PENDING}[status]
    assert "\x00" not in row.response and "done" in row.response


MARKUP = "<!channel> <!here> <@U123> DB down <http://evil.example|click> & [x](javascript:alert(1)) **b** {{DATE(2017-02-14T06:00:00Z)}}"


def test_slack_and_teams_show_chat_markup_from_an_incident_title_as_plain_text(receiver, responder):
    """Through a stakeholder subscription, as an incident title reaches Slack and Teams for real."""
    services.subscription_create(name="Execs", kind="slack", target=f"{receiver.url}/slack", frequency="realtime")
    services.subscription_create(name="Teams", kind="teams", target=f"{receiver.url}/teams", frequency="realtime")
    incident = declare(by=responder, title=MARKUP)
    for event in TimelineEvent.objects.filter(incident=incident):
        run_subscribers(event)
    deliver(list(Delivery.objects.filter(incident=incident)))

    [slack] = receiver.wait_for(1, "/slack")
    body = slack.json()
    fallback, section = body["text"], body["blocks"][1]["text"]["text"]
    for text in (fallback.split(": <http")[0], section):
        assert "<!channel>" not in text and "<!here>" not in text and "<@U123>" not in text and "<http://evil" not in text
        assert "&lt;!channel&gt; &lt;!here&gt; &lt;@U123&gt;" in text or "&lt;!channel&gt;" in text
    assert "&lt;http://evil.example|click&gt; &amp; [x]" in fallback
    assert body["blocks"][0]["text"]["type"] == "plain_text"
    links = [e["url"] for e in body["blocks"][-1]["elements"]]
    assert links and all(u.startswith("http://") or u.startswith("https://") for u in links)

    [teams] = receiver.wait_for(1, "/teams")
    card = teams.json()["attachments"][0]["content"]
    texts = [run["text"] for block in card["body"] for run in block["inlines"]]
    assert all(block["type"] == "RichTextBlock" for block in card["body"])
    assert "[x](javascript:alert(1)) **b**" in texts[0] and "{{DATE" not in texts[0]


def test_links_in_chat_are_http_only(receiver, responder):
    incident = declare(by=responder)
    webhook_method(responder, f"{receiver.url}/slack", kind="slack")
    webhook_method(responder, f"{receiver.url}/teams", kind="teams")
    message = Message(kind="incident.page", title="x", body="y", url="javascript:alert(1)", severity="P1", incident_id=incident.pk)
    deliver(services.notify_user(user=responder, message=message, dedup_key="k"))
    slack = receiver.wait_for(1, "/slack")[0].json()
    assert "javascript" not in json.dumps(slack)
    teams = receiver.wait_for(1, "/teams")[0].json()
    assert "javascript" not in json.dumps(teams)
    actions = teams["attachments"][0]["content"].get("actions", [])
    assert all(a["url"].startswith(("http://", "https://")) for a in actions)
