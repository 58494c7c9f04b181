"""The paths that matter, on a real Celery worker and the configured broker: a public update
reaches subscribers, and a window due in a moment starts by its ETA task."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from delivery.models import Delivery
from incidents.models import Maintenance
from incidents.statuspage import services
from incidents.statuspage.models import PublicIncident, StatusComponent, Subscriber
from tests.conftest import wait_for
from tests.incidents.factories import declare

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]




def test_public_update_reaches_subscribers_through_the_worker(celery_worker, components, responder):
    Subscriber.objects.create(kind="email", email="reader@example.com", confirmed_at=timezone.now())
    inc = declare("Search is down", by=responder)
    services.incident_publish_update(incident=inc, body="Search returns errors.", by=responder,
                                     components={components["api"]: "major_outage"})
    assert wait_for(lambda: Delivery.objects.filter(purpose="statuspage", incident=inc, status="sent").exists())
    assert [m.subject for m in mail.outbox] == ["[Acme status] Search is down: Investigating"]
    assert PublicIncident.objects.get(incident=inc).name == "Search is down"


def test_maintenance_due_soon_starts_by_its_eta_task(celery_worker, components, responder):
    now = timezone.now()
    m = services.maintenance_save(title="Quick patch", services=[components["db"].service], scheduled_for=now + timedelta(seconds=2),
                                  scheduled_until=now + timedelta(seconds=4), by=responder)
    assert wait_for(lambda: Maintenance.objects.get(pk=m.pk).status != "scheduled")
    assert wait_for(lambda: Maintenance.objects.get(pk=m.pk).status == "completed")
    assert StatusComponent.objects.get(pk=components["db"].pk).status == "operational"
