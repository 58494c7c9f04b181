"""Mattermost: its documented slash-command and interactive-message payloads through the real
endpoints, and its REST API v4 calls against a local server standing for Mattermost."""

import json
import urllib.parse

import pytest

from chatops import formats
from chatops.models import ChatPost, IncidentChannel
from incidents.models import Incident, IncidentStatus
from incidents.services import incident_declare

from .conftest import MM_TOKEN, run_chat

pytestmark = pytest.mark.django_db
URL = "/chat/mattermost/commands/"
ACTIONS = "/chat/mattermost/actions/"


@pytest.fixture
def people(fake_chat, responder, viewer):
    fake_chat.emails.update({"u1": (responder.email, True), "u2": (viewer.email, True), "u3": ("x@example.com", False)})


def command(client, text, *, user="u1", channel="town-square", token=MM_TOKEN, team="team1", status=200):
    body = urllib.parse.urlencode({"channel_id": channel, "channel_name": "town-square", "command": "/incident",
                                   "response_url": "http://mm/hooks/commands/x", "team_domain": "ops", "team_id": team,
                                   "text": text, "token": token, "trigger_id": "t1", "user_id": user, "user_name": "someone"})
    response = client.post(URL, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == status, response.content
    return response.json()["text"] if status == 200 else response


def test_the_slash_token_and_team_are_checked(client, mm_ws, people):
    assert command(client, "help", token="wrong", status=401)
    assert command(client, "help", team="other", status=404)
    assert "/incident declare" in command(client, "help")


def test_declare_is_a_plain_parse_on_mattermost(client, mm_ws, people):
    assert "Start with a severity" in command(client, "declare Checkout 5xx")
    assert not Incident.objects.exists()


def test_declare_ack_and_resolve_run_the_channel(client, mm_ws, people, fake_chat, responder):
    answer = command(client, "declare P1 Checkout 5xx")
    incident = Incident.objects.get()
    assert incident.number in answer
    run_chat()
    ic = IncidentChannel.objects.get(incident=incident)
    made = fake_chat.named("POST /channels")[0]
    assert made["team_id"] == "team1" and made["name"] == ic.name and made["type"] == "O"
    assert fake_chat.named(f"PUT /channels/{ic.channel_id}/patch")[-1]["header"].startswith("P1")
    assert ic.summary_ts and len(fake_chat.named(f"POST /posts/{ic.summary_ts}/pin")) == 1
    page = [b for b in fake_chat.named("POST /posts") if b["channel_id"] == "alerts1"][0]
    actions = page["props"]["attachments"][0]["actions"]
    assert [a["id"] for a in actions] == ["ack", "resolve", "escalate"]
    assert actions[0]["integration"]["url"].endswith(ACTIONS)
    assert "Acknowledged" in command(client, "ack", channel=ic.channel_id)
    assert "Note added" in command(client, "note @channel failover done", channel=ic.channel_id)
    assert "Resolved" in command(client, "resolve rolled back", channel=ic.channel_id)
    run_chat()
    texts = " ".join(a["text"] for b in fake_chat.named("POST /posts") if b["channel_id"] == ic.channel_id
                     for a in b["props"]["attachments"])
    assert "failover done" in texts and "@channel" not in texts  # no mention fires
    post = ChatPost.objects.get(incident=incident)
    patched = fake_chat.named(f"PUT /posts/{post.ts}/patch")[-1]
    assert "Resolved by Responder" in patched["props"]["attachments"][0]["footer"]


def test_a_button_acts_as_the_presser_and_the_post_updates_in_place(client, mm_ws, people, sev, fake_chat, responder):
    incident = incident_declare(title="Search down", severity=sev("P2"))
    run_chat()
    post = ChatPost.objects.get(incident=incident)
    context = formats.action_context("ack", incident.pk, mm_ws.pk)
    payload = {"user_id": "u1", "user_name": "r", "channel_id": "alerts1", "post_id": post.ts, "team_id": "team1",
               "type": "", "context": context}
    response = client.post(ACTIONS, data=json.dumps(payload), content_type="application/json")
    assert response.status_code == 200 and "Acknowledged" in response.json()["ephemeral_text"]
    incident.refresh_from_db()
    assert incident.acknowledged_by == responder
    run_chat()
    patched = fake_chat.named(f"PUT /posts/{post.ts}/patch")[-1]
    attachment = patched["props"]["attachments"][0]
    assert "Acknowledged by Responder" in attachment["footer"]
    assert [a["id"] for a in attachment["actions"]] == ["resolve", "escalate"]
    forged = dict(payload, context={**context, "sig": context["sig"][:-2] + "xx"})
    assert client.post(ACTIONS, data=json.dumps(forged), content_type="application/json").status_code == 401
    swapped = dict(payload, context={**context, "action": "resolve"})  # the signed action is the one acted on
    client.post(ACTIONS, data=json.dumps(swapped), content_type="application/json")
    incident.refresh_from_db()
    assert incident.status != IncidentStatus.RESOLVED
    assert client.post(ACTIONS, data=b"\x00not json", content_type="application/json").status_code == 400


def test_unverified_email_is_not_a_mapping(client, mm_ws, people, sev):
    incident = incident_declare(title="Search down", severity=sev("P2"))
    assert "not linked" in command(client, f"{incident.number} ack", user="u3")
    incident.refresh_from_db()
    assert incident.acknowledged_at is None



def test_a_restricted_incident_is_neither_posted_nor_acted_on_by_outsiders(client, mm_ws, people, sev, fake_chat, admin_user,
                                                                          responder2):
    """A restricted incident says nothing in shared chat, and a mapped responder outside it gets
    "No such incident" from a command naming it: nothing is done in its name."""
    from chatops import selectors

    fake_chat.emails["u9"] = (responder2.email, True)
    incident = incident_declare(title="Suspected breach", severity=sev("P1"), by=admin_user, restricted=True)
    assert not selectors.may_post(incident)
    assert "No such incident" in command(client, f"{incident.number} ack", user="u9")
    incident.refresh_from_db()
    assert incident.acknowledged_at is None
