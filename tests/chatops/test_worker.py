"""A real worker runs an incident from `/incident declare` to `/incident resolve` in its Slack
channel: the commands arrive over HTTP at the live server, signed as Slack signs them; the
channel, topic, pinned summary, posts, the page to a person as the app's direct message and the
in-place updates are made by the worker through the real slack_sdk client against the local Web
API server."""

import pytest
import requests
from django.utils import timezone

from chatops.models import ChatPerson, ChatPost, IncidentChannel
from delivery.models import Delivery
from incidents.models import Incident, IncidentStatus, TimelineEvent
from oncall.notifications.models import ContactMethod, NotificationRule
from tests.conftest import wait_for

from .conftest import slack_action_body, slack_command_body, slack_event_body, slack_headers


@pytest.mark.django_db(transaction=True)
def test_declare_to_resolve_in_a_channel_with_a_real_worker(celery_worker, live_server, slack_ws, fake_chat, responder, responder2):
    fake_chat.emails.update({"U1": (responder.email, True), "U4": (responder2.email, True)})
    # Lee (responder2) linked their Slack account and is paged on Slack: the page is the app's DM.
    ChatPerson.objects.create(workspace=slack_ws, chat_user_id="U4", user=responder2, how="link", linked_at=timezone.now())
    lee_slack = ContactMethod.objects.create(user=responder2, kind="slack", target="https://hooks.slack.com/services/T1/B1/secretsecret")
    NotificationRule.objects.create(user=responder2, contact_method=lee_slack, delay_minutes=0)

    def slash(text, channel="CGENERAL", user="U1"):
        body = slack_command_body(text, channel=channel, user=user)
        response = requests.post(live_server.url + "/chat/slack/commands/", data=body, timeout=10,
                                 headers={**slack_headers(body), "Content-Type": "application/x-www-form-urlencoded"})
        assert response.status_code == 200, response.text
        assert response.elapsed.total_seconds() < 3  # Slack's limit
        return response.json()["text"]

    assert "Declared" in slash("declare P1 Checkout 5xx")
    incident = Incident.objects.get()
    ic = wait_for(lambda: IncidentChannel.objects.filter(incident=incident).exclude(channel_id="").exclude(summary_ts="").first(),
                  what="the incident channel and its pinned summary")
    post = wait_for(lambda: ChatPost.objects.exclude(ts="").filter(incident=incident).first(), what="the page with buttons")
    wait_for(lambda: fake_chat.named("pins.add"), what="the pin")

    assert "Paging Responder2" in slash("page @responder2", channel=ic.channel_id)
    dm = wait_for(lambda: ChatPost.objects.filter(incident=incident, key__startswith="dm:").exclude(ts="").first(),
                  what="the page as the app's direct message")
    assert dm.channel_id == "DU4" and fake_chat.named("conversations.open")[-1]["users"] == "U4"
    sent = [b for b in fake_chat.named("chat.postMessage") if b["channel"] == "DU4"][-1]
    assert [e["action_id"] for e in sent["blocks"][-1]["elements"]] == ["ack", "resolve", "escalate", "open"]
    row = Delivery.objects.get(purpose="paging", incident=incident, user=responder2)
    assert row.channel == "slack_app" and row.status == "sent"  # a row on the incident, like every page

    body = slack_action_body("ack", incident.pk, ts=dm.ts, user="U4", channel="DU4")  # pressed in the DM
    pressed = requests.post(live_server.url + "/chat/slack/interactions/", data=body, timeout=10,
                            headers={**slack_headers(body), "Content-Type": "application/x-www-form-urlencoded"})
    assert pressed.status_code == 200 and "Acknowledged" in pressed.json()["text"]
    for page in (dm, post):  # the DM and the alerts channel's page, both in place
        fake_chat.wait_for(lambda page=page: any("Acknowledged by Responder2" in str(b["blocks"]) for b in fake_chat.named("chat.update")
                                                 if b["ts"] == page.ts and b["channel"] == page.channel_id),
                           what="the page updated in place")

    assert "commander" in slash("role commander <@U4|lee>", channel=ic.channel_id)
    assert "Note added" in slash("note failover started", channel=ic.channel_id)
    fake_chat.history["1700000001.000100"] = "db primary failed over to replica"
    event = slack_event_body({"type": "reaction_added", "user": "U4", "reaction": "pushpin",
                              "item": {"type": "message", "channel": ic.channel_id, "ts": "1700000001.000100"}, "event_ts": "1"})
    reacted = requests.post(live_server.url + "/chat/slack/events/", data=event, timeout=10,
                            headers={**slack_headers(event), "Content-Type": "application/json"})
    assert reacted.status_code == 200
    wait_for(lambda: TimelineEvent.objects.filter(incident=incident, kind="note", actor=responder2,
                                                  message__contains="db primary failed over").exists(), what="the pinned message on the timeline")
    assert "Resolved" in slash("resolve Rolled back the bad deploy", channel=ic.channel_id)
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED and incident.resolved_by == responder
    assert incident.acknowledged_by == responder2

    def channel_texts():
        return " ".join(b["text"] for b in fake_chat.named("chat.postMessage") if b["channel"] == ic.channel_id)

    fake_chat.wait_for(lambda: "Rolled back the bad deploy" in channel_texts(), what="the resolution in the channel")
    kinds = list(TimelineEvent.objects.filter(incident=incident).values_list("kind", flat=True))
    assert {"declared", "escalation.manual", "escalation.notified", "acknowledged", "role_assigned", "note", "resolved",
            "chat.channel"} <= set(kinds)
    assert TimelineEvent.objects.get(incident=incident, kind="acknowledged").actor == responder2
    # A post that raced the channel's creation waits for it (retried a few seconds later).
    for line in ("Declared P1", "Acknowledged by Responder2", "failover started", "Resolved"):
        fake_chat.wait_for(lambda line=line: line in channel_texts(), what=line)
    fake_chat.wait_for(lambda: any(b["users"] == "U4" for b in fake_chat.named("conversations.invite")), what="the commander invited")
    fake_chat.wait_for(lambda: "Resolved" in fake_chat.named("conversations.setTopic")[-1]["topic"], what="the topic")
    for page in (dm, post):
        fake_chat.wait_for(lambda page=page: any("Resolved by Responder" in str(b["blocks"]) for b in fake_chat.named("chat.update")
                                                 if b["ts"] == page.ts), what="the page showing the resolution")
