"""Pages and stakeholder messages sent by the chat apps: a page to a person who linked their chat
account is the bot's direct message with Acknowledge / Resolve / Escalate now / Open, acting as
whoever presses them and updated in place; stakeholder channels get Open (and Acknowledge while
it is awaited); a 429 is retried after its Retry-After, every time; "Escalate now" pages the next
level whatever its targets are. All through the delivery layer (rows on the incident), the real
slack_sdk client and the Mattermost REST API v4 against the local server."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from chatops.models import ChatPerson, ChatPost
from delivery.models import Delivery
from incidents.models import Incident, IncidentStatus, TimelineEvent
from incidents.services import incident_acknowledge, incident_change_status, incident_declare
from oncall import handlers as oncall_handlers
from oncall.models import Escalation, EscalationStep, StepStatus
from oncall.notifications import subscriptions
from oncall.notifications.models import ContactMethod, NotificationRule, StakeholderSubscription
from oncall.services import escalation as engine
from tests.oncall.conftest import Condition, TargetKind, make_policy, make_schedule

from .conftest import run_chat, slack_action_body, slack_command_body, slack_headers

pytestmark = pytest.mark.django_db
ACTIONS = "/chat/slack/interactions/"
MM_ACTIONS = "/chat/mattermost/actions/"
WEBHOOK = "https://hooks.slack.com/services/T0001/B0001/abcdefghijklmnop"


@pytest.fixture
def people(fake_chat, responder, responder2, viewer):
    fake_chat.emails.update({"U1": (responder.email, True), "U2": (viewer.email, True), "U4": (responder2.email, True)})
    return {"U1": responder, "U2": viewer, "U4": responder2}


def linked(workspace, chat_user_id, user):
    return ChatPerson.objects.create(workspace=workspace, chat_user_id=chat_user_id, user=user, how="link", linked_at=timezone.now())


def method(user, kind, target, delay=0):
    found = ContactMethod.objects.create(user=user, kind=kind, target=target)
    NotificationRule.objects.create(user=user, contact_method=found, delay_minutes=delay)
    return found


def page(incident, by, user):
    """Page `user` by hand and fire the step as the worker does."""
    escalation = engine.page_manually(incident=incident, by=by, user=user)
    assert engine.step_fire(step_id=escalation.steps.get().pk)


def deliver_pages():
    run_chat(purposes=("paging", "chat", "stakeholders"))


def press_slack(client, action, incident, *, user, channel, ts):
    body = slack_action_body(action, incident.pk, user=user, channel=channel, ts=ts)
    response = client.post(ACTIONS, data=body, content_type="application/x-www-form-urlencoded", headers=slack_headers(body))
    assert response.status_code == 200
    return response.json()["text"]


def buttons(message: dict) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def declare(sev, key="P2", title="Checkout 5xx"):
    return incident_declare(title=title, severity=sev(key))


# --- pages as direct messages ----------------------------------------------------------------------


def test_a_page_to_a_linked_slack_person_is_the_apps_dm_with_buttons_updated_in_place(client, slack_ws, people, sev, fake_chat,
                                                                                      responder, responder2):
    linked(slack_ws, "U4", responder2)
    method(responder2, "slack", WEBHOOK)  # an incoming webhook method: the link makes it a DM with buttons
    incident = declare(sev)
    page(incident, responder, responder2)
    deliver_pages()

    row = Delivery.objects.get(purpose="paging", incident=incident, user=responder2)
    assert row.channel == "slack_app" and row.status == "sent" and row.target == "Slack direct message (Acme)"
    assert fake_chat.named("conversations.open")[-1]["users"] == "U4"
    dm = [b for b in fake_chat.named("chat.postMessage") if b["channel"] == "DU4"]
    assert len(dm) == 1
    assert [e["action_id"] for e in dm[0]["blocks"][-1]["elements"]] == ["ack", "resolve", "escalate", "open"]
    assert "paged by Responder" in dm[0]["blocks"][0]["text"]["text"]
    post = ChatPost.objects.get(key=f"dm:{row.pk}")
    assert post.channel_id == "DU4" and post.ts and post.incident == incident

    assert "Acknowledged" in press_slack(client, "ack", incident, user="U4", channel="DU4", ts=post.ts)
    incident.refresh_from_db()
    assert incident.acknowledged_by == responder2
    assert TimelineEvent.objects.filter(incident=incident, kind="acknowledged", actor=responder2).exists()
    run_chat()
    update = [b for b in fake_chat.named("chat.update") if b["ts"] == post.ts][-1]
    assert update["channel"] == "DU4"
    when = timezone.localtime(incident.last_acknowledged_at)
    assert f"Acknowledged by Responder2 at {when:%Y-%m-%d %H:%M}" in str(update["blocks"])
    assert [e["action_id"] for e in update["blocks"][-2]["elements"]] == ["resolve", "escalate", "open"]
    # every send is a row on the incident: the DM, and its update
    assert Delivery.objects.filter(incident=incident, purpose="chat", message__data__op="update", message__data__post=post.pk,
                                   status="sent").exists()


def test_an_unlinked_persons_slack_webhook_stays_a_webhook(slack_ws, people, sev, responder, responder2):
    method(responder2, "slack", WEBHOOK)
    incident = declare(sev)
    page(incident, responder, responder2)
    row = Delivery.objects.get(purpose="paging", incident=incident, user=responder2)
    assert row.channel == "slack" and "route" not in row.message.get("data", {})


def test_a_chat_app_method_without_a_link_fails_over_to_the_next_method(slack_ws, people, sev, responder, responder2):
    method(responder2, "slack_app", "lee")
    method(responder2, "email", responder2.email, delay=5)
    incident = declare(sev)
    page(incident, responder, responder2)
    deliver_pages()
    first = Delivery.objects.get(purpose="paging", incident=incident, user=responder2, channel="slack_app")
    assert first.status == "failed" and "link" in first.error
    fallback = Delivery.objects.get(purpose="paging", incident=incident, user=responder2, channel="email")
    assert fallback.due_at <= timezone.now()  # brought forward
    assert TimelineEvent.objects.filter(incident=incident, kind="notification.failed").exists()


def test_a_page_to_a_linked_mattermost_person_is_the_bots_dm_updated_in_place(client, mm_ws, sev, fake_chat, responder, responder2):
    linked(mm_ws, "u4", responder2)
    linked(mm_ws, "u1", responder)
    method(responder2, "mattermost_app", "lee")
    incident = declare(sev, "P2")  # high urgency: paged now (P3 would wait for working hours)
    page(incident, responder, responder2)
    deliver_pages()
    row = Delivery.objects.get(purpose="paging", incident=incident, user=responder2)
    assert row.channel == "mattermost_app" and row.status == "sent"
    assert fake_chat.named("POST /channels/direct")[-1] == ["bot1", "u4"]
    dm = [b for b in fake_chat.named("POST /posts") if b["channel_id"] == "dm_bot1_u4"][-1]
    attachment = dm["props"]["attachments"][0]
    assert [a["id"] for a in attachment["actions"]] == ["ack", "resolve", "escalate"]
    assert attachment["title_link"].endswith(incident.get_absolute_url())  # Open
    post = ChatPost.objects.get(key=f"dm:{row.pk}")
    assert post.channel_id == "dm_bot1_u4"

    context = attachment["actions"][0]["integration"]["context"]
    payload = {"user_id": "u4", "channel_id": post.channel_id, "post_id": post.ts, "team_id": "team1", "context": context}
    answer = client.post(MM_ACTIONS, data=json.dumps(payload), content_type="application/json").json()["ephemeral_text"]
    assert "Acknowledged" in answer
    incident.refresh_from_db()
    assert incident.acknowledged_by == responder2
    run_chat()
    patched = fake_chat.named(f"PUT /posts/{post.ts}/patch")[-1]["props"]["attachments"][0]
    assert "Acknowledged by Responder2 at" in patched["footer"]
    assert [a["id"] for a in patched["actions"]] == ["resolve", "escalate"]


# --- stakeholder channels -----------------------------------------------------------------------------


def test_stakeholder_channel_gets_open_and_acknowledge_only_while_awaited(client, slack_ws, people, sev, fake_chat, responder):
    sub = StakeholderSubscription.objects.create(name="Execs", kind="slack_app", target="CEXEC")
    hook = StakeholderSubscription.objects.create(name="Webhook", kind="slack", target=WEBHOOK)
    incident = declare(sev, "P3")
    subscriptions.on_incident_event(TimelineEvent.objects.get(incident=incident, kind="declared"))
    rows = {r.destination_id: r for r in Delivery.objects.filter(purpose="stakeholders", incident=incident)}
    assert rows[sub.pk].channel == "slack_app" and rows[hook.pk].channel == "slack"
    Delivery.objects.filter(pk=rows[hook.pk].pk).update(status="cancelled")  # no internet here
    StakeholderSubscription.objects.filter(pk=hook.pk).update(is_active=False)
    deliver_pages()
    posted = [b for b in fake_chat.named("chat.postMessage") if b["channel"] == "CEXEC"]
    assert [e["action_id"] for e in posted[0]["blocks"][-1]["elements"]] == ["ack", "open"]  # no Resolve, no Escalate
    post = ChatPost.objects.get(key=f"sub:{rows[sub.pk].pk}")
    assert post.channel_id == "CEXEC" and post.ts and post.actions == ("ack",)

    assert "may not" in press_slack(client, "ack", incident, user="U2", channel="CEXEC", ts=post.ts)  # a viewer
    assert "Acknowledged" in press_slack(client, "ack", incident, user="U1", channel="CEXEC", ts=post.ts)
    run_chat()
    update = [b for b in fake_chat.named("chat.update") if b["ts"] == post.ts][-1]
    assert "Acknowledged by Responder" in str(update["blocks"])
    assert [e["action_id"] for e in update["blocks"][-2]["elements"]] == ["open"]
    # a later message, once acknowledged: Open only
    incident_change_status(incident=Incident.objects.get(pk=incident.pk), status=IncidentStatus.IDENTIFIED, by=responder)
    subscriptions.on_incident_event(TimelineEvent.objects.filter(incident=incident, kind="status_changed").latest("pk"))
    deliver_pages()
    later = [b for b in fake_chat.named("chat.postMessage") if b["channel"] == "CEXEC"][-1]
    assert buttons(later) == ["open"]


# --- 429: Retry-After on every retry -----------------------------------------------------------------


def test_a_429_is_retried_after_its_retry_after_every_time(slack_ws, people, sev, fake_chat):
    limited = (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"})
    fake_chat.fail["chat.postMessage"] = [limited, limited]
    declare(sev)
    run_chat()
    row = Delivery.objects.get(purpose="chat", message__data__op="post", dedup_key__startswith="page:")
    for attempt in (1, 2):
        row.refresh_from_db()
        assert row.status == "pending" and row.attempts == attempt and row.response_code == 429
        wait = (row.due_at - row.updated_at).total_seconds()
        assert 6 <= wait <= 8, wait  # the answer's Retry-After, not the 5 s, 10 s backoff
        assert "retry after 7 s" in row.error
        Delivery.objects.filter(pk=row.pk).update(due_at=timezone.now() - timedelta(seconds=1))
        run_chat()
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 3
    assert ChatPost.objects.get().ts
    assert len(fake_chat.named("chat.postMessage")) >= 3


def test_a_huge_retry_after_is_bounded(slack_ws, people, sev, fake_chat, settings):
    fake_chat.fail["chat.postMessage"] = [(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "9999999"})]
    declare(sev)
    run_chat()
    row = Delivery.objects.get(purpose="chat", message__data__op="post", dedup_key__startswith="page:")
    wait = (row.due_at - row.updated_at).total_seconds()
    assert wait <= settings.DELIVERY_DEFAULTS["retry_after_max_seconds"] + 1


def test_retry_after_header_forms():
    from email.utils import format_datetime

    from delivery.netguard import retry_after_seconds

    assert retry_after_seconds("12") == 12.0
    assert retry_after_seconds("") is None and retry_after_seconds("soon") is None and retry_after_seconds(None) is None
    later = format_datetime(timezone.now() + timedelta(seconds=60), usegmt=True)
    assert 55 <= retry_after_seconds(later) <= 61


# --- escalate now: every target kind ---------------------------------------------------------------------


@pytest.fixture
def ladder(db, responder):
    """Level 1 a user (now), level 2 a group (15 min), level 3 a schedule's layer (30 min), level 4 a schedule (60 min)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    alice, bob, carol, dave = (User.objects.create_user(n, f"{n}@example.com", "pw-123456", first_name=n.title())
                               for n in ("alice", "bob", "carol", "dave"))
    dbas = Group.objects.create(name="DBAs")
    bob.groups.add(dbas)
    primary = make_schedule("Primary", [carol])
    backup = make_schedule("Backup", [dave])
    from incidents.models import Service

    service = Service.objects.create(name="Checkout", slug="checkout")
    make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, alice)]),
                 (900, Condition.NOT_ACKNOWLEDGED, [(TargetKind.GROUP, dbas)]),
                 (1800, Condition.NOT_RESOLVED, [(TargetKind.LAYER, primary.layers.get())]),
                 (3600, Condition.NOT_RESOLVED, [(TargetKind.SCHEDULE, backup)])], service=service)
    return {"service": service, "alice": alice, "bob": bob, "carol": carol, "dave": dave}


def paged_users(incident):
    return set(Delivery.objects.filter(purpose="paging", incident=incident).values_list("user__username", flat=True))


def fire_manual(incident):
    for step in EscalationStep.objects.filter(escalation__incident=incident, escalation__manual=True, status=StepStatus.PENDING):
        engine.step_fire(step_id=step.pk)


def test_escalate_now_pages_the_next_level_whatever_its_targets(client, slack_ws, people, sev, ladder, responder):
    incident = incident_declare(title="DB down", severity=sev("P1"), services=[ladder["service"]])
    oncall_handlers.on_incident_event(TimelineEvent.objects.get(incident=incident, kind="declared"))
    for step in EscalationStep.objects.filter(escalation__incident=incident, due_at__lte=timezone.now()):
        engine.step_fire(step_id=step.pk)
    assert paged_users(incident) == {"alice"}

    # the button: level 2, a group
    answer = press_slack(client, "escalate", incident, user="U1", channel="CALERTS", ts="1")
    assert "DBAs" in answer
    fire_manual(incident)
    assert paged_users(incident) == {"alice", "bob"}
    level2 = EscalationStep.objects.get(escalation__manual=False, escalation__incident=incident, level=1)
    assert level2.status == StepStatus.CANCELLED and "paged early by Responder" in level2.note  # nobody gets it twice
    manual = TimelineEvent.objects.filter(incident=incident, kind="escalation.manual").latest("pk")
    assert manual.actor == responder and "DBAs" in manual.message

    # acknowledged meanwhile: "escalate now" still brings in the next level (a layer), from the command
    incident_acknowledge(incident=Incident.objects.get(pk=incident.pk), by=responder)
    body = slack_command_body(f"{incident.number} page next")
    answer = client.post("/chat/slack/commands/", data=body, content_type="application/x-www-form-urlencoded",
                         headers=slack_headers(body)).json()["text"]
    assert "Primary · Primary" in answer
    fire_manual(incident)
    assert "carol" in paged_users(incident)
    # then the schedule
    assert "Backup" in press_slack(client, "escalate", incident, user="U1", channel="CALERTS", ts="1")
    fire_manual(incident)
    assert "dave" in paged_users(incident)
    assert "No further escalation level" in press_slack(client, "escalate", incident, user="U1", channel="CALERTS", ts="1")
    assert "may not" in press_slack(client, "escalate", incident, user="U2", channel="CALERTS", ts="1")  # a viewer


def test_page_command_takes_groups_and_layers(client, slack_ws, people, sev, ladder):
    incident = declare(sev)

    def command(text):
        body = slack_command_body(f"{incident.number} {text}")
        return client.post("/chat/slack/commands/", data=body, content_type="application/x-www-form-urlencoded",
                           headers=slack_headers(body)).json()["text"]

    assert "Paging DBAs" in command("page dbas")
    assert "Paging Primary · Primary" in command("page primary / primary")
    assert "Paging Backup" in command("page Backup")
    assert "No schedule, layer or group" in command("page nobody")
    fire_manual(incident)
    assert {"bob", "carol", "dave"} <= paged_users(incident)
    kinds = [e.snapshot["targets"][0]["kind"] for e in Escalation.objects.filter(incident=incident, manual=True).order_by("pk")]
    assert kinds == ["group", "layer", "schedule"]

