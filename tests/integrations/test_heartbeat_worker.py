"""The heartbeat's fast path through a real Celery worker on the configured broker: a ping
schedules an ETA check at the due time; a missed ping opens the incident without the sweep."""

import time
from datetime import timedelta

import pytest
from django.test import Client

from incidents.integrations.models import Heartbeat, HeartbeatStatus
from incidents.integrations.services import configuration
from incidents.models import Incident, Severity
from tests.incidents.factories import ServiceFactory


@pytest.mark.django_db(transaction=True)
def test_missed_ping_opens_an_incident_through_the_eta_task(celery_worker, seeded):
    integration, key = configuration.integration_create(
        name="Backup cron", service=ServiceFactory(), kind="heartbeat", default_severity=Severity.objects.get(key="P2"),
        heartbeat_interval=timedelta(seconds=1), heartbeat_grace=timedelta(seconds=0),
    )
    assert Client().get(f"/api/v1/integrations/{key}/heartbeat/").status_code == 200
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not Incident.objects.exists():
        time.sleep(0.2)
    incident = Incident.objects.get()
    assert incident.title == "Heartbeat missed: Backup cron"
    assert Heartbeat.objects.get(integration=integration).status == HeartbeatStatus.DOWN
