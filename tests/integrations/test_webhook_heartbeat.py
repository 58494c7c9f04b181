from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.integrations.models import Alert, AlertStatus, Heartbeat, HeartbeatStatus
from incidents.integrations.services import heartbeats
from incidents.integrations.tasks import heartbeat_check_task, heartbeat_sweep_task
from incidents.models import Incident

pytestmark = pytest.mark.django_db


def hook(key):
    return f"/api/v1/integrations/{key}/webhook/"


def ping(key):
    return f"/api/v1/integrations/{key}/heartbeat/"


def test_webhook_default_mapping_opens_and_resolves(make_integration, client_json, sev):
    _i, key = make_integration("webhook", severity_rules=[{"match": {"severity": "high"}, "severity": "P1"}])
    body = {"title": "Queue depth above 10k", "status": "firing", "fingerprint": "queue-depth", "severity": "high",
            "description": "orders queue", "link": "https://grafana.example.com/d/queues"}
    assert client_json(hook(key), body).status_code == 200
    incident = Incident.objects.get()
    assert incident.severity == sev("P1")
    alert = Alert.objects.get()
    assert alert.links == [{"href": "https://grafana.example.com/d/queues", "text": "Source"}]
    client_json(hook(key), {**body, "status": "resolved"})
    incident.refresh_from_db()
    assert incident.status == "resolved"


def test_webhook_custom_field_mapping_reads_dotted_paths(make_integration, client_json):
    _i, key = make_integration("webhook", field_mapping={"title": "check.name", "status": "check.state", "fingerprint": "check.id"},
                               resolved_values=["up"])
    body = {"check": {"name": "Homepage down", "state": "down", "id": 42}}
    client_json(hook(key), body)
    alert = Alert.objects.get()
    assert alert.title == "Homepage down" and alert.fingerprint == "42" and alert.status == AlertStatus.FIRING
    client_json(hook(key), {"check": {"name": "Homepage down", "state": "up", "id": 42}})
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_webhook_missing_title_is_400_naming_the_path(make_integration, client_json):
    _i, key = make_integration("webhook", field_mapping={"title": "check.name"})
    response = client_json(hook(key), {"check": {"nom": "x"}})
    assert response.status_code == 400
    assert "'check.name'" in response.json()["message"]
    assert not Alert.objects.exists()


def test_webhook_takes_a_list_of_alerts(make_integration, client_json):
    _i, key = make_integration("webhook")
    client_json(hook(key), {"alerts": [{"title": "a", "fingerprint": "1"}, {"title": "b", "fingerprint": "2"}]})
    assert Alert.objects.count() == 2 and Incident.objects.count() == 2


@pytest.fixture
def heartbeat(make_integration):
    return make_integration("heartbeat", heartbeat_interval=timedelta(minutes=5), heartbeat_grace=timedelta(minutes=1))


def test_ping_schedules_the_due_check(heartbeat, client):
    integration, key = heartbeat
    before = timezone.now()
    response = client.get(ping(key))
    assert response.status_code == 200
    hb = Heartbeat.objects.get(integration=integration)
    assert hb.status == HeartbeatStatus.UP
    assert before + timedelta(minutes=6) <= hb.due_at <= timezone.now() + timedelta(minutes=6)
    assert client.post(ping(key)).status_code == 200 and client.head(ping(key)).status_code == 200
    assert client.get(ping("nope")).status_code == 404


def test_missed_heartbeat_opens_an_incident_once_and_the_next_ping_resolves_it(heartbeat, client):
    integration, key = heartbeat
    client.get(ping(key))
    hb = Heartbeat.objects.get(integration=integration)
    assert heartbeats.heartbeat_check(heartbeat_id=hb.pk) is False  # not due yet
    later = hb.due_at + timedelta(seconds=1)
    assert heartbeats.heartbeat_check(heartbeat_id=hb.pk, now=later) is True
    assert heartbeats.heartbeat_check(heartbeat_id=hb.pk, now=later) is False  # claim twice: nothing
    incident = Incident.objects.get()
    assert incident.title.startswith("Heartbeat missed") and incident.status == "investigating"
    client.get(ping(key))
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert Heartbeat.objects.get(pk=hb.pk).status == HeartbeatStatus.UP


def test_sweep_catches_due_heartbeats_and_the_task_is_idempotent(heartbeat, client):
    integration, key = heartbeat
    client.get(ping(key))
    Heartbeat.objects.filter(integration=integration).update(due_at=timezone.now() - timedelta(seconds=1))
    assert heartbeat_sweep_task() == 1
    assert heartbeat_sweep_task() == 0
    heartbeat_check_task(heartbeat_id=integration.heartbeat.pk)
    assert Incident.objects.count() == 1


def test_a_ping_after_the_due_time_but_before_the_check_prevents_the_incident(heartbeat, client):
    integration, key = heartbeat
    client.get(ping(key))
    Heartbeat.objects.filter(integration=integration).update(due_at=timezone.now() - timedelta(seconds=1))
    client.get(ping(key))  # arrived late, before any check ran
    assert heartbeat_sweep_task() == 0
    assert not Incident.objects.exists()
