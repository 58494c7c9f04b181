"""The escalation engine with real Celery workers on the configured broker (Redis in CI), a
real SMTP server and a real HTTP receiver: the ladder, acknowledging through the emailed link,
a worker killed between levels, and two workers racing."""

import re
import time as clock
from datetime import UTC, timedelta

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from delivery.models import Delivery
from incidents.defaults import seed_defaults
from incidents.groups import RESPONDER, ensure_groups
from incidents.models import TimelineEvent
from oncall.models import EscalationStep, Profile, StepStatus
from oncall.notifications.services import contact_method_create
from oncall.tasks import step_fire_task
from tests.incidents.factories import declare

from .conftest import Condition, TargetKind, make_policy, person

# No django_db marker: the fixtures request `transactional_db` (see conftest._reseed_after_flush).
ACK_LINK = re.compile(r"https?://[^\s\"<>]+/ack/[^\s\"<>/]+/")


def wait_until(predicate, timeout=20.0, what="condition"):
    deadline = clock.monotonic() + timeout
    while clock.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        clock.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def mails_to(smtp, address):
    return [m for m in smtp.inbox if address in m.recipients]


@pytest.fixture
def team(transactional_db, receiver):
    seed_defaults(django_apps)  # a flush by an earlier transactional test removed the seeded severities
    people = {name: person(name) for name in ("alice", "bob", "carol")}
    ensure_groups()
    for name, user in people.items():
        user.groups.add(Group.objects.get(name=RESPONDER))  # acknowledge links act only for responders
        # A high rate limit: these tests count every single message (storms are folded by default).
        contact_method_create(user=user, kind="email", target=user.email, rate_limit_count=1000)
        contact_method_create(user=user, kind="webhook", target=f"{receiver.url}/hooks/{name}", rate_limit_count=1000)
    return people


def ladder(team, service, delays=(0, 4, 8)):
    return make_policy([
        (delays[0], Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, team["alice"])]),
        (delays[1], Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, team["bob"])]),
        (delays[2], Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, team["carol"])]),
    ], service=service)


def acknowledge_through_link(mail) -> None:
    link = ACK_LINK.search(mail.part("text/plain"))
    assert link, mail.part("text/plain")
    path = "/" + link.group(0).split("/", 3)[3]
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(path)
    assert page.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    done = browser.post(path, {"csrfmiddlewaretoken": token})
    assert done.status_code == 200 and "acknowledged as" in done.content.decode()


def test_ladder_with_a_real_worker_stops_when_acknowledged_through_the_emailed_link(team, service, celery_worker, smtp_server, receiver):
    ladder(team, service)
    started = clock.monotonic()
    incident = declare(severity="P1", services=[service])

    first = wait_until(lambda: mails_to(smtp_server, "alice@example.com"), what="level 1 email")[0]
    receiver.wait_for(1, path="/hooks/alice")
    assert not mails_to(smtp_server, "bob@example.com")
    level1 = EscalationStep.objects.get(escalation__incident=incident, level=0)
    assert (level1.fired_at - level1.escalation.started_at).total_seconds() < 2, "level 1 pages at once"

    wait_until(lambda: mails_to(smtp_server, "bob@example.com"), what="level 2 email")
    assert clock.monotonic() - started >= 4, "level 2 waits for its delay"
    level2 = EscalationStep.objects.get(escalation__incident=incident, level=1)
    assert level2.fired_at >= level2.due_at
    receiver.wait_for(1, path="/hooks/bob")

    acknowledge_through_link(first)
    incident.refresh_from_db()
    assert incident.acknowledged_by == team["alice"]
    wait_until(lambda: EscalationStep.objects.filter(escalation__incident=incident, level=2, status=StepStatus.CANCELLED).exists(),
               what="level 3 cancelled by the acknowledgement")
    level3 = EscalationStep.objects.get(escalation__incident=incident, level=2)
    clock.sleep(max(0.0, (level3.due_at - timezone.now()).total_seconds()) + 1.0)
    assert not mails_to(smtp_server, "carol@example.com")
    assert not receiver.for_path("/hooks/carol")
    notified = TimelineEvent.objects.filter(incident=incident, kind="escalation.notified").order_by("pk")
    assert [e.data["level"] for e in notified] == [0, 1]
    assert len(mails_to(smtp_server, "alice@example.com")) == 1 and len(mails_to(smtp_server, "bob@example.com")) == 1


def test_worker_killed_between_levels_the_sweep_fires_level_two(worker_process, smtp_server, receiver, team, service):
    ladder(team, service, delays=(0, 4, 600))
    first = worker_process("doomed")
    incident = declare(severity="P1", services=[service])
    wait_until(lambda: mails_to(smtp_server, "alice@example.com"), timeout=30, what="level 1 email")
    level2 = EscalationStep.objects.get(escalation__incident=incident, level=1)
    assert level2.status == StepStatus.PENDING
    first.kill()  # it holds level 2's ETA message, which dies with it

    worker_process("survivor", beat=True)
    wait_until(lambda: mails_to(smtp_server, "bob@example.com"), timeout=30, what="level 2 email from the sweep")
    level2.refresh_from_db()
    assert level2.status == StepStatus.FIRED and level2.fired_at >= level2.due_at
    receiver.wait_for(1, path="/hooks/bob")
    clock.sleep(1.5)
    assert len(mails_to(smtp_server, "bob@example.com")) == 1
    assert Delivery.objects.filter(incident=incident, user=team["bob"]).count() == 2  # email + webhook, once each


def test_two_workers_racing_duplicates_and_the_sweep_notify_once(worker_process, smtp_server, receiver, team, service):
    make_policy([(2, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, team["alice"])])], service=service)
    worker_process("one", beat=True)
    worker_process("two")
    incidents = [declare(title=f"Race {i}", severity="P2", services=[service]) for i in range(12)]
    steps = wait_until(lambda: (lambda s: s if len(s) == 12 else None)(
        list(EscalationStep.objects.filter(escalation__incident__in=incidents))), timeout=30, what="steps planned")
    for step in steps:  # a redelivered message and a duplicate fast path for every step
        for _ in range(2):
            step_fire_task.apply_async(kwargs={"step_id": step.pk}, eta=step.due_at)
    wait_until(lambda: len(mails_to(smtp_server, "alice@example.com")) >= 12, timeout=40, what="12 emails")
    receiver.wait_for(12, path="/hooks/alice", timeout=20)
    clock.sleep(3)  # let every duplicate and a few sweeps run
    assert len(mails_to(smtp_server, "alice@example.com")) == 12
    assert len(receiver.for_path("/hooks/alice")) == 12
    assert EscalationStep.objects.filter(escalation__incident__in=incidents, status=StepStatus.FIRED).count() == 12
    assert TimelineEvent.objects.filter(incident__in=incidents, kind="escalation.notified").count() == 12
    subjects = sorted(m.message["Subject"] for m in mails_to(smtp_server, "alice@example.com"))
    assert len(set(subjects)) == 12


def test_low_urgency_waits_for_the_working_hours_while_high_urgency_pages_at_once(team, service, celery_worker, smtp_server, receiver):
    """Alice's working day starts a few seconds from now (in her zone, UTC here): the low-urgency
    incident reaches her then, through the worker, and not before; the high-urgency one at once."""
    alice = team["alice"]
    begins = (timezone.now() + timedelta(seconds=6)).astimezone(UTC).replace(microsecond=0)
    Profile.objects.update_or_create(user=alice, defaults={
        "time_zone": "UTC", "working_days": "1234567", "working_start": begins.time(),
        "working_end": (begins + timedelta(hours=2)).time()})
    make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, alice)])], service=service)

    low = declare("Typo on the pricing page", severity="P3", services=[service])
    high = declare("Checkout is down", severity="P1", services=[service])
    wait_until(lambda: [m for m in mails_to(smtp_server, alice.email) if "Checkout is down" in m.message["Subject"]],
               what="the high-urgency page")
    assert timezone.now() < begins, "the high-urgency page did not wait for the working hours"
    held = wait_until(lambda: list(Delivery.objects.filter(incident=low, user=alice)), what="the held low-urgency rows")
    assert all(row.kind == "low_urgency" and row.due_at == begins for row in held)
    assert not [m for m in mails_to(smtp_server, alice.email) if "Typo" in m.message["Subject"]]

    mail = wait_until(lambda: [m for m in mails_to(smtp_server, alice.email) if "Typo" in m.message["Subject"]],
                      timeout=30, what="the low-urgency notice at the start of the working hours")[0]
    assert timezone.now() >= begins
    receiver.wait_for(2, path="/hooks/alice")  # the high page and the low notice, once each
    sent = wait_until(lambda: (lambda rows: rows if len(rows) == 2 else None)(
        list(Delivery.objects.filter(incident=low, user=alice, status="sent"))), what="both low-urgency rows marked sent")
    assert all(row.sent_at >= begins for row in sent)
    assert "Typo on the pricing page" in mail.part("text/plain")
    assert Delivery.objects.filter(incident=high, user=alice, kind="").count() == 2
