"""What counts as an active maintenance window: one rule, beside the Maintenance model, asked by
alert suppression (integrations) and by the status page (component states, the "active" list)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.integrations.services import configuration, ingest
from incidents.models import Maintenance, MaintenanceStatus
from incidents.statuspage.models import ComponentStatus, StatusComponent
from incidents.statuspage.selectors import snapshot
from incidents.statuspage.services import component_save, components_refresh, maintenance_record_ensure
from tests.incidents.factories import ServiceFactory

pytestmark = pytest.mark.django_db

MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)

# (status, start and end relative to now, active?)
CASES = [
    pytest.param(MaintenanceStatus.SCHEDULED, -MINUTE, HOUR, True, id="scheduled-window-open-not-yet-started-by-the-scheduler"),
    pytest.param(MaintenanceStatus.SCHEDULED, HOUR, 2 * HOUR, False, id="scheduled-in-the-future"),
    pytest.param(MaintenanceStatus.SCHEDULED, -2 * HOUR, -HOUR, False, id="scheduled-window-already-over"),
    pytest.param(MaintenanceStatus.IN_PROGRESS, -MINUTE, HOUR, True, id="in-progress"),
    pytest.param(MaintenanceStatus.IN_PROGRESS, HOUR, 2 * HOUR, True, id="started-early-by-hand"),
    pytest.param(MaintenanceStatus.VERIFYING, -2 * HOUR, -MINUTE, True, id="verifying-past-its-end"),
    pytest.param(MaintenanceStatus.COMPLETED, -MINUTE, HOUR, False, id="completed-early"),
]


def _window(status, start, end, services, now, **extra):
    m = Maintenance.objects.create(title="Upgrade", status=status, scheduled_for=now + start, scheduled_until=now + end, **extra)
    m.services.set(services)
    return m


@pytest.mark.parametrize(("status", "start", "end", "active"), CASES)
def test_the_rule_in_the_database_and_in_memory(status, start, end, active):
    now = timezone.now()
    m = _window(status, start, end, [], now)
    assert m.is_active(now) is active
    assert Maintenance.objects.active(now).filter(pk=m.pk).exists() is active


@pytest.mark.parametrize(("status", "start", "end", "active"), CASES)
def test_alert_suppression_and_the_status_page_agree(status, start, end, active, sev):
    service = ServiceFactory(name="API", slug="api")
    component = component_save(component=StatusComponent(service=service, name="API"))
    integration, _key = configuration.integration_create(name="am", service=service, kind="alertmanager", default_severity=sev("P2"))
    now = timezone.now()
    m = _window(status, start, end, [service], now)
    maintenance_record_ensure(m)

    assert bool(ingest.maintenance_reason(integration, now)) is active
    assert (m in snapshot(now).active_maintenances) is active
    components_refresh([component.pk], now=now)
    assert (StatusComponent.objects.get(pk=component.pk).status == ComponentStatus.UNDER_MAINTENANCE) is active


def test_a_window_is_never_both_upcoming_and_active():
    now = timezone.now()
    opened = _window(MaintenanceStatus.SCHEDULED, -MINUTE, HOUR, [], now)
    later = _window(MaintenanceStatus.SCHEDULED, HOUR, 2 * HOUR, [], now)
    for m in (opened, later):
        maintenance_record_ensure(m)
    snap = snapshot(now)
    assert [m.pk for m in snap.active_maintenances] == [opened.pk]
    assert [m.pk for m in snap.upcoming_maintenances] == [later.pk]


def test_only_windows_that_suppress_alerts_keep_alerts_quiet(sev):
    service = ServiceFactory(name="API", slug="api")
    integration, _key = configuration.integration_create(name="am", service=service, kind="alertmanager", default_severity=sev("P2"))
    now = timezone.now()
    _window(MaintenanceStatus.IN_PROGRESS, -MINUTE, HOUR, [service], now, suppress_alerts=False)
    assert ingest.maintenance_reason(integration, now) == ""
    _window(MaintenanceStatus.IN_PROGRESS, -MINUTE, HOUR, [ServiceFactory(name="Other", slug="other")], now)
    assert ingest.maintenance_reason(integration, now) == ""
