"""Slack: slash commands and buttons through the real endpoints, signed with slack_sdk's own
signature code; the Web API calls made by the real slack_sdk WebClient against a local server."""

import json
import time
import urllib.parse
from datetime import timedelta

import pytest
from django.utils import timezone

from chatops.models import ChatPerson, ChatPost, IncidentChannel
from delivery.models import Delivery
from incidents.models import Incident, IncidentMember, IncidentStatus, Role, StatusUpdate, TimelineEvent, Visibility
from incidents.services import incident_declare

from .conftest import run_chat, slack_action_body, slack_command_body, slack_headers

pytestmark = pytest.mark.django_db
URL = "/chat/slack/commands/"
ACTIONS = "/chat/slack/interactions/"


@pytest.fixture
def people(fake_chat, responder, responder2, viewer):
    fake_chat.emails.update({"U1": (responder.email, True), "U2": (viewer.email, True), "U4": (responder2.email, True),
                             "U9": ("stranger@example.com", True), "U8": (responder2.email, False)})
    return {"U1": responder, "U2": viewer, "U4": responder2}


def command(client, text, **kw):
    body = slack_command_body(text, **kw)
    response = client.post(URL, data=body, content_type="application/x-www-form-urlencoded", headers=slack_headers(body))
    assert response.status_code == 200, response.content
    return response.json()["text"]


def declare(sev, **kw):
    return incident_declare(title="Checkout 5xx", severity=sev("P1"), **kw)


# --- verification -------------------------------------------------------------------------------


def test_forged_expired_and_unknown_requests_are_refused(client, slack_ws, people):
    body = slack_command_body("help")
    assert client.post(URL, data=body, content_type="application/x-www-form-urlencoded",
                       headers=slack_headers(body, secret="wrong-secret")).status_code == 401
    old = int(time.time()) - 6 * 60  # outside Slack's five-minute window: a replay
    assert client.post(URL, data=body, content_type="application/x-www-form-urlencoded",
                       headers=slack_headers(body, timestamp=old)).status_code == 401
    tampered = body.replace("help", "resolve")
    assert client.post(URL, data=tampered, content_type="application/x-www-form-urlencoded",
                       headers=slack_headers(body)).status_code == 401
    other = slack_command_body("help", team="T9999")
    assert client.post(URL, data=other, content_type="application/x-www-form-urlencoded", headers=slack_headers(other)).status_code == 404
    assert client.post(URL, data=body, content_type="application/x-www-form-urlencoded").status_code == 401


def test_hostile_text_is_never_a_500(client, slack_ws, people, sev):
    incident = declare(sev)
    for text in ("\x00\x01", "ack " + "x" * 30_000, "INC-" + "9" * 500, "role commander <@U1|a><@U2>", "\u202eack", "page <!channel>",
                 "status ' OR 1=1 --", f"{incident.number} severity", "declare", "declare P1", "update --public", "%00%ff"):
        assert command(client, text)


# --- people ---------------------------------------------------------------------------------------


def test_an_unmapped_person_gets_a_link_and_nothing_is_done_in_anyone_elses_name(client, slack_ws, people, sev, responder2):
    incident = declare(sev)
    answer = command(client, f"{incident.number} ack", user="U9")  # nobody in the portal has this address
    assert "not linked" in answer and "/chat/link/" in answer
    answer = command(client, f"{incident.number} ack", user="U8")  # an address Slack has not confirmed
    assert "not linked" in answer
    incident.refresh_from_db()
    assert incident.acknowledged_at is None
    link = answer.split("http://127.0.0.1:8000", 1)[1].split()[0]
    client.force_login(responder2)
    assert client.get(link).status_code == 200
    assert client.post(link).status_code == 302
    assert ChatPerson.objects.get(chat_user_id="U8").user == responder2
    assert client.post(link).status_code == 400  # one time only
    assert "Acknowledged" in command(client, f"{incident.number} ack", user="U8")
    incident.refresh_from_db()
    assert incident.acknowledged_by == responder2


def test_a_person_is_mapped_by_verified_email(client, slack_ws, people, responder):
    assert "portal" in command(client, "oncall") or command(client, "oncall")
    assert ChatPerson.objects.get(chat_user_id="U1").user == responder


def test_a_viewer_may_not_act(client, slack_ws, people, sev):
    incident = declare(sev)
    assert "may not" in command(client, f"{incident.number} ack", user="U2")
    assert "may not" in command(client, "declare P1 db down", user="U2")
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


# --- one test per command ----------------------------------------------------------------------------


def test_help(client, slack_ws, people):
    assert "/incident declare" in command(client, "help", user="U9")


def test_declare_opens_a_channel_for_chosen_severities(client, slack_ws, people, fake_chat, responder):
    answer = command(client, "declare P1 Checkout 5xx")
    incident = Incident.objects.get()
    assert incident.number in answer and incident.declared_by == responder and incident.severity.key == "P1"
    run_chat()
    ic = IncidentChannel.objects.get(incident=incident)
    date, seq = incident.number.split("-")[1:]
    assert ic.name == f"inc-{date}-{seq}-checkout-5xx"
    assert fake_chat.named("conversations.create")[0]["name"] == ic.name
    assert ic.channel_id and ic.summary_ts
    topic = fake_chat.named("conversations.setTopic")[-1]
    assert topic["channel"] == ic.channel_id and "P1" in topic["topic"] and "Investigating" in topic["topic"]
    assert fake_chat.named("pins.add")[0]["timestamp"] == ic.summary_ts
    page = [b for b in fake_chat.named("chat.postMessage") if b["channel"] == "CALERTS"]
    assert [e["action_id"] for e in page[0]["blocks"][-1]["elements"]] == ["ack", "resolve", "escalate", "open"]
    assert "may not" not in command(client, "declare P3 Typo on pricing page")
    run_chat()
    assert IncidentChannel.objects.count() == 1  # P3 is not a channel severity


def test_declare_without_a_severity_opens_the_modal_and_its_submission_declares(client, slack_ws, people, fake_chat, responder):
    from incidents.models import Service

    checkout = Service.objects.create(name="Checkout", slug="checkout")
    assert "Opening the form" in command(client, "declare Checkout 5xx")
    assert not Incident.objects.exists()
    opened = fake_chat.named("views.open")[0]
    view = opened["view"]
    assert opened["trigger_id"] == "1.2.3" and view["callback_id"] == "incident_declare"
    assert view["blocks"][0]["element"]["initial_value"] == "Checkout 5xx"
    assert "P1" in [o["value"] for o in view["blocks"][1]["element"]["options"]]
    submitted = {"type": "view_submission", "team": {"id": "T0001"}, "user": {"id": "U1"},
                 "view": {"callback_id": "incident_declare", "private_metadata": "CGENERAL", "state": {"values": {
                     "title": {"title": {"type": "plain_text_input", "value": "Checkout 5xx"}},
                     "severity": {"severity": {"type": "static_select", "selected_option": {"value": "P1"}}},
                     "services": {"services": {"type": "multi_static_select", "selected_options": [{"value": str(checkout.pk)}]}}}}}}
    body = urllib.parse.urlencode({"payload": json.dumps(submitted)})
    response = client.post(ACTIONS, data=body, content_type="application/x-www-form-urlencoded", headers=slack_headers(body))
    assert response.status_code == 200 and response.content == b""
    incident = Incident.objects.get()
    assert (incident.title, incident.severity.key, incident.declared_by) == ("Checkout 5xx", "P1", responder)
    assert list(incident.services.all()) == [checkout]
    submitted["view"]["state"]["values"]["severity"]["severity"]["selected_option"] = {"value": "nope"}
    body = urllib.parse.urlencode({"payload": json.dumps(submitted)})
    response = client.post(ACTIONS, data=body, content_type="application/x-www-form-urlencoded", headers=slack_headers(body))
    assert response.json() == {"response_action": "errors", "errors": {"severity": "Choose a severity."}}


def test_commands_inside_the_incident_channel_act_on_its_incident(client, slack_ws, people, sev, fake_chat, responder, responder2):
    incident = declare(sev)
    run_chat()
    channel = IncidentChannel.objects.get(incident=incident).channel_id
    assert "Acknowledged" in command(client, "ack", channel=channel)
    assert "identified" in command(client, "status identified", channel=channel)
    assert "P0" in command(client, "severity P0", channel=channel)
    assert "commander" in command(client, "role commander <@U4|lee>", channel=channel)
    assert "Internal update" in command(client, "update Rolled back the deploy", channel=channel)
    assert "Public update" in command(client, "update --public We are looking into checkout errors", channel=channel)
    assert "Note added" in command(client, "note <!channel> db failover at 10:02", channel=channel)
    assert "Resolved" in command(client, "resolve Bad deploy rolled back", channel=channel)
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED and incident.severity.key == "P0"
    assert incident.acknowledged_by == responder and incident.resolved_by == responder
    assert IncidentMember.objects.get(incident=incident, role=Role.COMMANDER).user == responder2
    assert StatusUpdate.objects.filter(incident=incident, visibility=Visibility.PUBLIC).count() == 1
    assert StatusUpdate.objects.filter(incident=incident, visibility=Visibility.INTERNAL).count() == 1
    assert TimelineEvent.objects.filter(incident=incident, kind="note", actor=responder).exists()
    run_chat()
    posts = [b for b in fake_chat.named("chat.postMessage") if b["channel"] == channel]
    texts = " ".join(b["text"] for b in posts)
    assert "db failover" in texts and "<!channel>" not in texts and "&lt;!channel&gt;" in texts
    assert fake_chat.named("conversations.invite")[-1]["users"] == "U4"  # the commander invited as assigned
    topic = fake_chat.named("conversations.setTopic")[-1]["topic"]
    assert "Resolved" in topic and "IC Responder2" in topic
    summary = [b for b in fake_chat.named("chat.update") if b["ts"] == IncidentChannel.objects.get().summary_ts]
    assert summary and "Resolved" in str(summary[-1]["blocks"])
    archive = Delivery.objects.get(purpose="chat", message__data__op="archive")
    assert archive.status == "pending" and archive.due_at == incident.resolved_at + timedelta(minutes=60)


def test_elsewhere_commands_take_the_incident_number(client, slack_ws, people, sev):
    incident = declare(sev)
    assert "Which incident" in command(client, "ack")
    assert "No incident" in command(client, "INC-20000101-999 ack")
    assert "Acknowledged" in command(client, f"{incident.number.lower()} ack")


def test_page_a_person_and_a_schedule(client, slack_ws, people, sev, responder2):
    from oncall.models import Escalation, Schedule

    incident = declare(sev)
    assert "Paging Responder2" in command(client, f"{incident.number} page @responder2")
    Schedule.objects.create(name="Primary")
    assert "Primary" in command(client, f"{incident.number} page primary")
    assert "No schedule" in command(client, f"{incident.number} page nosuch")
    assert Escalation.objects.filter(incident=incident, manual=True).count() == 2


def test_oncall_uses_the_oncall_computation(client, slack_ws, people, responder2):
    from oncall.models import Schedule
    from tests.oncall.conftest import make_schedule

    make_schedule("Primary", [responder2])
    Schedule.objects.create(name="Empty")
    assert command(client, "oncall") == "Empty: nobody (a gap)\nPrimary: Responder2"
    assert command(client, "oncall primary") == "Primary: Responder2"
    assert "No schedule" in command(client, "oncall Secondary")


def test_channel_command_opens_one_for_any_severity(client, slack_ws, people, sev, fake_chat):
    incident = incident_declare(title="Slow search", severity=sev("P3"))
    run_chat()
    assert not IncidentChannel.objects.exists()
    assert "#inc-" in command(client, f"{incident.number} channel")
    run_chat()
    assert IncidentChannel.objects.get(incident=incident).channel_id


# --- buttons ---------------------------------------------------------------------------------------


def test_acknowledge_button_acts_as_the_presser_and_updates_the_page_in_place(client, slack_ws, people, sev, fake_chat, responder):
    incident = declare(sev)
    run_chat()
    post = ChatPost.objects.get(incident=incident)
    assert post.ts
    body = slack_action_body("ack", incident.pk, ts=post.ts)
    response = client.post(ACTIONS, data=body, content_type="application/x-www-form-urlencoded", headers=slack_headers(body))
    assert response.status_code == 200 and "Acknowledged" in response.json()["text"]
    incident.refresh_from_db()
    assert incident.acknowledged_by == responder
    run_chat()
    update = [b for b in fake_chat.named("chat.update") if b["ts"] == post.ts][-1]
    assert update["channel"] == "CALERTS"
    assert "Acknowledged by Responder" in str(update["blocks"])
    assert [e["action_id"] for e in update["blocks"][-2]["elements"]] == ["resolve", "escalate", "open"]
    forged = client.post(ACTIONS, data=body, content_type="application/x-www-form-urlencoded",
                         headers=slack_headers(body, secret="nope"))
    assert forged.status_code == 401


def test_buttons_of_an_unmapped_person_do_nothing(client, slack_ws, people, sev):
    incident = declare(sev)
    body = slack_action_body("resolve", incident.pk, user="U9")
    response = client.post(ACTIONS, data=body, content_type="application/x-www-form-urlencoded", headers=slack_headers(body))
    assert "not linked" in response.json()["text"]
    incident.refresh_from_db()
    assert incident.status != IncidentStatus.RESOLVED


def test_a_429_is_waited_out_and_a_chat_outage_loses_nothing(slack_ws, people, sev, fake_chat):
    fake_chat.fail["chat.postMessage"] = [(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "30"})]
    declare(sev)
    run_chat()
    limited = Delivery.objects.get(purpose="chat", response_code=429)
    assert limited.status == "pending" and limited.due_at > timezone.now() + timedelta(seconds=25)  # waits Retry-After, not asleep
    Delivery.objects.filter(purpose="chat", status="pending").update(due_at=timezone.now())
    run_chat()
    limited.refresh_from_db()
    assert limited.status == "sent" and ChatPost.objects.get().ts
    fake_chat.fail["chat.update"] = [(500, {"ok": False, "error": "fatal_error"}, {})] * 3
    incident = Incident.objects.get()
    from incidents.services import incident_acknowledge

    incident_acknowledge(incident=incident, by=people["U1"])
    run_chat()
    row = Delivery.objects.filter(purpose="chat", message__data__op="update").latest("pk")
    assert row.status == "pending" and row.attempts >= 1  # retried with backoff, not lost
    Delivery.objects.filter(pk=row.pk).update(due_at=row.created_at)
    for _ in range(4):
        Delivery.objects.filter(pk=row.pk, status="pending").update(due_at=row.created_at)
        run_chat()
    row.refresh_from_db()
    assert row.status == "sent"


def test_events_url_check_and_signature(client, slack_ws):
    body = json.dumps({"token": "x", "team_id": "T0001", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"})
    response = client.post("/chat/slack/events/", data=body, content_type="application/json", headers=slack_headers(body))
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    assert client.post("/chat/slack/events/", data=body, content_type="application/json",
                       headers=slack_headers(body, secret="x")).status_code == 401
    assert client.post("/chat/slack/events/", data=b"[1]", content_type="application/json").status_code == 400


def test_a_pushpin_adds_the_message_to_the_timeline_once_as_the_mapped_person(slack_ws, people, sev, fake_chat, responder):
    from chatops.services import pin_to_timeline

    incident = declare(sev)
    run_chat()
    channel = IncidentChannel.objects.get().channel_id
    fake_chat.history["1.5"] = "<!here> cache flushed"
    assert pin_to_timeline(workspace_id=slack_ws.pk, chat_user_id="U1", channel_id=channel, ts="1.5")
    assert not pin_to_timeline(workspace_id=slack_ws.pk, chat_user_id="U1", channel_id=channel, ts="1.5")
    assert not pin_to_timeline(workspace_id=slack_ws.pk, chat_user_id="U9", channel_id=channel, ts="1.6")  # unmapped
    assert not pin_to_timeline(workspace_id=slack_ws.pk, chat_user_id="U2", channel_id=channel, ts="1.7")  # a viewer
    notes = TimelineEvent.objects.filter(incident=incident, kind="note")
    assert [(n.actor, n.message) for n in notes] == [(responder, "(pinned from chat) <!here> cache flushed")]
