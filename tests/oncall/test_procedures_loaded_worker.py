"""Each reference procedure loaded by `load_procedure`, then run against a real Celery worker on
the configured broker, mailing through a real SMTP server: an incident of the top severity pages
the document's first level at once, the next level after the document's timeout when nobody
acknowledges (or mitigates, where the document says "no progress"), acknowledging stops the
acknowledgement ladder, the initial-notice reminder comes due at the document's first-notice
time (where it names one) and the status-update reminder at the document's cadence.

Timeouts are scaled down IN THE TEST: after loading, the policy is saved again (through
`policy_save`) with every delay multiplied by `scale` so that the shortest timeout of the
document becomes 3 seconds (e.g. 5 / 10 / 15 minutes -> 3 / 6 / 9 seconds). The update cadence
is not scaled: the reminder sweep is called with a `now` just before and just after the
document's interval."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from delivery.models import Delivery
from incidents import services as incident_services
from incidents.models import IncidentType, Service, TimelineEvent
from oncall.models import EscalationPolicy, EscalationStep, Schedule, StepStatus
from oncall.notifications import reminders
from oncall.notifications.models import UpdateReminder
from oncall.notifications.services import contact_method_create
from oncall.procedures import PROCEDURES
from oncall.services.policies import policy_levels, policy_save
from oncall.services.schedules import LayerSpec, layer_add
from tests.conftest import wait_for
from tests.incidents.factories import declare

from .conftest import person

SHORTEST_SECONDS = 3


def _mails_to(smtp, user):
    return [m for m in smtp.inbox if user.email in m.recipients]


class Loaded:
    """A procedure loaded, its placeholder schedules filled with one person each (what the team
    does after loading), its policy's timeouts scaled down, and somebody to declare."""

    def __init__(self, name: str, smtp):
        out = StringIO()
        call_command("load_procedure", name, stdout=out)
        assert "Loaded the" in out.getvalue()
        self.proc = PROCEDURES[name]
        self.smtp = smtp
        self.service = Service.objects.get(slug=self.proc["service"]["slug"])
        self.people = {}
        for schedule in Schedule.objects.filter(name__in=self._schedule_names()):
            user = person(schedule.name.lower().replace(" ", "-").replace("/", "")[:30])
            contact_method_create(user=user, kind="email", target=user.email, rate_limit_count=1000)
            layer_add(schedule=schedule, spec=LayerSpec(name="Team", starts_on=timezone.localdate() - timedelta(days=7),
                                                        participants=[(user, 1)]))
            self.people[schedule.name] = user
        self.declarer = person("declarer")
        contact_method_create(user=self.declarer, kind="email", target=self.declarer.email, rate_limit_count=1000)
        self.policy = EscalationPolicy.objects.get(name=self.proc["policies"][0]["name"])
        self.scale = self._scale_down()

    def _schedule_names(self):
        return {name for policy in self.proc["policies"] for level in policy["levels"]
                for kind, name in level.get("targets", []) + level.get("inform", []) if kind == "schedule"}

    def _scale_down(self) -> float:
        levels = policy_levels(self.policy)
        shortest = min(lv.delay_seconds for lv in levels if lv.delay_seconds)
        scale = SHORTEST_SECONDS / shortest
        for lv in levels:
            lv.delay_seconds = round(lv.delay_seconds * scale)
        policy_save(policy=self.policy, name=self.policy.name, levels=levels, description=self.policy.description)
        return scale

    def who(self, *schedules):
        return sorted(self.people[name].pk for name in schedules)

    def declare_top(self):
        top = self.proc["severities"][0]["key"]
        return declare(title=f"{self.proc['team']} is down", severity=top, services=[self.service], by=self.declarer)

    def step(self, incident, level):
        return EscalationStep.objects.filter(escalation__incident=incident, escalation__policy=self.policy, level=level).first()

    def wait_fired(self, incident, level, timeout=30):
        step = wait_for(lambda: (lambda s: s if s and s.status == StepStatus.FIRED else None)(self.step(incident, level)),
                        timeout, f"level {level + 1} to page")
        step.notified = sorted(step.notified)
        return step

    def wait_cancelled(self, incident, level):
        return wait_for(lambda: getattr(self.step(incident, level), "status", None) == StepStatus.CANCELLED, 20, f"level {level + 1} cancelled")

    def level_minutes(self, level: int) -> float:
        return self.proc["policies"][0]["levels"][level].get("after_minutes", 0)

    def assert_waited(self, step, level):
        waited = (step.fired_at - step.escalation.started_at).total_seconds()
        assert waited >= self.level_minutes(level) * 60 * self.scale - 0.05, (level, waited)

    def check_cadence(self, incident, minutes: int):
        """Where the top severity asks for an initial notice, its reminder is due that long after
        declaring, not sooner; once a notice is posted, the reminder for the severity's cadence is
        due `minutes` after it (after declaring when there is no first-notice deadline)."""
        first = self.proc["severities"][0].get("first_notice_within")
        start = incident.declared_at
        reminder = wait_for(lambda: UpdateReminder.objects.filter(incident=incident).first(), 20, "the update reminder")
        if first:
            assert reminder.due_at == incident.declared_at + first
            assert reminders.sweep(now=reminder.due_at - timedelta(seconds=1)) == 0
            assert reminders.sweep(now=reminder.due_at + timedelta(seconds=1)) == 1
            mail = wait_for(lambda: [m for m in _mails_to(self.smtp, self.declarer) if "Initial notice due" in m.message["Subject"]],
                            30, "the initial-notice reminder mail")[0]
            assert f"within {int(first.total_seconds() // 60)} minutes" in mail.part("text/plain")
            incident_services.incident_post_update(incident=incident, body="Investigating.", by=self.declarer)
            start = incident.updates.get().created_at
            reminder = wait_for(lambda: UpdateReminder.objects.filter(incident=incident, due_at=start + timedelta(minutes=minutes)).first(),
                                20, "the reminder moved to the cadence")
        assert reminder.due_at == start + timedelta(minutes=minutes)
        assert reminders.sweep(now=reminder.due_at - timedelta(seconds=1)) == 0
        assert reminders.sweep(now=reminder.due_at + timedelta(seconds=1)) == 1
        mail = wait_for(lambda: [m for m in _mails_to(self.smtp, self.declarer) if "Status update due" in m.message["Subject"]],
                        30, "the update reminder mail")[0]
        assert f"every {minutes} minutes" in mail.part("text/plain")


@pytest.fixture
def loaded(celery_worker, smtp_server):
    return lambda name: Loaded(name, smtp_server)


def test_xmtp_critical_pages_qa_then_devops_at_5_min_and_updates_hourly(loaded):
    proc = loaded("xmtp")
    incident = proc.declare_top()
    first = proc.wait_fired(incident, 0)
    assert first.notified == proc.who("XMTP QA on-call")
    assert proc.step(incident, 1).status == StepStatus.PENDING
    assert not EscalationStep.objects.filter(escalation__incident=incident, level=2).exists()  # DevOps at 15 min is High's
    wait_for(lambda: _mails_to(proc.smtp, proc.people["XMTP QA on-call"]), 30, "the page to QA")

    devops = proc.wait_fired(incident, 1)
    assert devops.notified == proc.who("XMTP DevOps on-call")
    proc.assert_waited(devops, 1)

    incident_services.incident_acknowledge(incident=incident, by=proc.people["XMTP QA on-call"])
    proc.wait_cancelled(incident, 3)  # the Engineering Manager is not paged once acknowledged
    assert proc.step(incident, 4).status in (StepStatus.PENDING, StepStatus.FIRED)  # director: "down for 15 minutes"
    assert not _mails_to(proc.smtp, proc.people["XMTP Engineering Manager"])
    proc.check_cadence(incident, 60)


def test_treebeard_p0_pages_on_call_then_senior_while_not_mitigated_and_updates_every_15_min(loaded):
    proc = loaded("treebeard")
    incident = proc.declare_top()
    assert proc.wait_fired(incident, 0).notified == proc.who("TreeBeard on-call engineer")
    assert proc.step(incident, 1).status == StepStatus.PENDING

    # "if no progress": acknowledging does not stop the technical escalation...
    incident_services.incident_acknowledge(incident=incident, by=proc.people["TreeBeard on-call engineer"])
    senior = proc.wait_fired(incident, 1)
    assert senior.notified == proc.who("TreeBeard senior engineer")
    proc.assert_waited(senior, 1)
    # the business escalation is told on the same clock, never paged
    assert proc.wait_fired(incident, 5).notified == [] and proc.wait_fired(incident, 6).notified == []
    informed = {uid for e in TimelineEvent.objects.filter(incident=incident, kind="escalation.informed") for uid in e.data["users"]}
    assert informed == set(proc.who("TreeBeard Customer Support Lead", "TreeBeard Customer Success Manager"))
    # ...mitigating it does.
    incident_services.incident_change_status(incident=incident, status="monitoring", by=proc.people["TreeBeard senior engineer"])
    proc.wait_cancelled(incident, 2)
    proc.wait_cancelled(incident, 3)
    proc.wait_cancelled(incident, 7)
    proc.wait_cancelled(incident, 8)
    assert not _mails_to(proc.smtp, proc.people["TreeBeard Engineering Manager"])
    proc.check_cadence(incident, 15)


def test_arq_sev1_notifies_executives_at_once_secondary_at_5_min_zoom_room_and_updates_every_15_min(loaded):
    proc = loaded("arq")
    incident = proc.declare_top()
    assert incident.war_room_url.startswith("https://zoom.example.com/arq-incidents/inc-")  # "Zoom call if SEV 1-2"
    assert proc.wait_fired(incident, 0).notified == proc.who("ARQ primary on-call")
    assert proc.wait_fired(incident, 1).notified == proc.who("ARQ CTO", "ARQ VP Engineering")  # executive notification
    assert not EscalationStep.objects.filter(escalation__incident=incident, level__in=(2, 3, 4, 6)).exists()  # other severities'

    secondary = proc.wait_fired(incident, 5)
    assert secondary.notified == proc.who("ARQ secondary on-call")
    proc.assert_waited(secondary, 5)
    incident_services.incident_acknowledge(incident=incident, by=proc.people["ARQ primary on-call"])
    proc.check_cadence(incident, 15)


def test_arq_acknowledged_in_time_never_pages_the_secondary(loaded):
    proc = loaded("arq")
    incident = proc.declare_top()
    proc.wait_fired(incident, 0)
    incident_services.incident_acknowledge(incident=incident, by=proc.people["ARQ primary on-call"])
    proc.wait_cancelled(incident, 5)
    assert not _mails_to(proc.smtp, proc.people["ARQ secondary on-call"])


def test_matchbook_p1_assembles_the_team_then_manager_at_15_min_and_vp_until_mitigated(loaded):
    proc = loaded("matchbook")
    incident = proc.declare_top()
    assert proc.wait_fired(incident, 0).notified == proc.who("Matchbook on-call engineer")
    assert proc.wait_fired(incident, 1).notified == proc.who(
        "Matchbook Incident Commander", "Matchbook Technical Lead", "Matchbook Communications Lead")
    assert proc.step(incident, 2).status == StepStatus.PENDING

    manager = proc.wait_fired(incident, 2)  # "P1 not acknowledged in 15 min"
    assert manager.notified == proc.who("Matchbook Engineering Manager")
    proc.assert_waited(manager, 2)
    incident_services.incident_acknowledge(incident=incident, by=proc.people["Matchbook on-call engineer"])
    assert proc.step(incident, 3).status == StepStatus.PENDING  # the VP waits for mitigation, not acknowledgement
    incident_services.incident_change_status(incident=incident, status="monitoring", by=proc.people["Matchbook on-call engineer"])
    proc.wait_cancelled(incident, 3)
    assert not _mails_to(proc.smtp, proc.people["Matchbook VP Engineering"])
    proc.check_cadence(incident, 15)


def test_matchbook_suspected_breach_pages_security_and_legal(loaded):
    proc = loaded("matchbook")
    security, legal = person("sec"), person("legal")
    security.groups.add(Group.objects.get(name="Security"))
    legal.groups.add(Group.objects.get(name="Legal"))
    for user in (security, legal):
        contact_method_create(user=user, kind="email", target=user.email, rate_limit_count=1000)
    breach = incident_services.incident_declare(
        title="Customer wallets exported", severity=None, by=proc.declarer, services=[proc.service],
        incident_type=IncidentType.objects.get(key="matchbook-data-breach"))
    assert breach.restricted and breach.severity.key == "P1"
    for user in (security, legal):
        wait_for(lambda u=user: _mails_to(proc.smtp, u), 30, f"the page to {user.username}")


def test_alloy_p0_pages_primary_then_secondary_at_15_min_opens_the_war_room_and_updates_every_30_min(loaded):
    proc = loaded("alloy")
    incident = proc.declare_top()
    assert incident.war_room_url.startswith("https://zoom.example.com/alloy-war-room/")
    assert proc.wait_fired(incident, 0).notified == proc.who("Alloy primary on-call")
    assert proc.step(incident, 1).status == StepStatus.PENDING

    secondary = proc.wait_fired(incident, 1)
    assert secondary.notified == proc.who("Alloy secondary on-call")
    proc.assert_waited(secondary, 1)
    incident_services.incident_acknowledge(incident=incident, by=proc.people["Alloy secondary on-call"])
    proc.wait_cancelled(incident, 2)  # the Engineering Lead (30 min) is not paged
    assert proc.step(incident, 3).status in (StepStatus.PENDING, StepStatus.FIRED)  # CTO: "unresolved P0" after 1 h
    assert not _mails_to(proc.smtp, proc.people["Alloy Engineering Lead"])
    assert not Delivery.objects.filter(incident=incident, user=proc.people["Alloy Engineering Lead"]).exists()
    proc.check_cadence(incident, 30)
