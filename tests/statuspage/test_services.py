"""Component state derivation, outage intervals, the alert option and the postmortem summary."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import services as core
from incidents.event_payloads import PostmortemPublished
from incidents.models import Maintenance, MaintenanceStatus
from incidents.statuspage import services, tasks
from incidents.statuspage.models import (
    ComponentImpact,
    ComponentStatusPeriod,
    MaintenanceUpdate,
    PublicIncident,
    PublicUpdateInfo,
    StatusComponent,
)
from incidents.statuspage.selectors import snapshot
from tests.incidents.factories import declare

from .conftest import run_worker_events

pytestmark = pytest.mark.django_db


def _state(c):
    return StatusComponent.objects.get(pk=c.pk).status


def test_state_follows_several_incidents_and_a_maintenance_on_one_component(components, responder):
    api, web = components["api"], components["web"]
    a = declare("API errors", severity="P1", by=responder)
    b = declare("API slow", severity="P2", by=responder)
    services.incident_publish_update(incident=a, body="Errors on the API.", by=responder, components={api: "partial_outage"})
    services.incident_publish_update(incident=b, body="The API is slow.", by=responder, components={api: "degraded_performance"})
    now = timezone.now()
    m = services.maintenance_save(title="DB upgrade", services=[api.service], scheduled_for=now - timedelta(minutes=1),
                                  scheduled_until=now + timedelta(hours=1), by=responder)
    assert tasks.maintenance_sweep_task() == 1
    m.refresh_from_db()
    assert m.status == MaintenanceStatus.IN_PROGRESS
    assert _state(api) == "partial_outage"  # the worst of the three wins
    assert _state(web) == "operational"  # nothing touches another component

    core.incident_resolve(incident=a, by=responder)
    run_worker_events()
    assert _state(api) == "degraded_performance"
    core.incident_resolve(incident=b, by=responder)
    run_worker_events()
    assert _state(api) == "under_maintenance"
    services.maintenance_advance(maintenance=m, to=MaintenanceStatus.COMPLETED, by=responder)
    assert _state(api) == "operational"
    assert _state(web) == "operational"
    periods = list(ComponentStatusPeriod.objects.filter(component=api).order_by("started_at", "pk").values_list("status", "ended_at"))
    assert [s for s, _ in periods] == ["partial_outage", "degraded_performance", "under_maintenance"]
    assert all(end is not None for _, end in periods)


def test_override_pins_the_state_until_removed(components, responder):
    api = components["api"]
    inc = declare("API down", by=responder)
    services.incident_publish_update(incident=inc, body="Down.", by=responder, components={api: "major_outage"})
    services.component_set_override(component=api, status="operational")
    assert _state(api) == "operational"
    services.component_set_override(component=api, status="")
    assert _state(api) == "major_outage"


def test_publish_update_publishes_records_affected_components_and_raises_impact(components, responder):
    api = components["api"]
    inc = declare("Checkout broken", by=responder)
    assert not PublicIncident.objects.exists()
    update = services.incident_publish_update(incident=inc, body="Investigating.", by=responder, status="identified",
                                              components={api: "major_outage"}, name="Checkout problems")
    pub = PublicIncident.objects.get(incident=inc)
    assert pub.name == "Checkout problems" and pub.impact == "critical"
    info = PublicUpdateInfo.objects.get(update=update)
    assert info.affected_components == [{"code": api.code, "name": "API", "old_status": "operational", "new_status": "major_outage"}]
    inc.refresh_from_db()
    assert inc.status == "identified" and update.visibility == "public"
    assert inc.timeline.filter(kind="statuspage.components").exists()
    services.incident_publish_update(incident=inc, body="Better.", by=responder, components={api: "degraded_performance"})
    pub.refresh_from_db()
    assert pub.impact == "critical"  # impact never goes down
    services.incident_publish_update(incident=inc, body="Fixed.", by=responder, status="resolved")
    assert _state(api) == "operational"


def test_alert_opened_incident_degrades_its_component_at_once(components, responder):
    api, web = components["api"], components["web"]
    inc = declare("5xx alert", by=None, services=[api.service, web.service], detection_source="alert")
    run_worker_events()
    assert _state(api) == "degraded_performance"  # degrade_on_alert
    assert _state(web) == "operational"  # the option is off for web
    assert ComponentImpact.objects.get(incident=inc, component=api).source == "alert"
    assert not PublicIncident.objects.filter(incident=inc).exists()  # not published by it
    run_worker_events()  # a second delivery changes nothing
    assert ComponentImpact.objects.filter(incident=inc).count() == 1
    core.incident_resolve(incident=inc, by=responder)
    run_worker_events()
    assert _state(api) == "operational"


def test_staff_declared_incident_does_not_degrade(components, responder):
    declare("Customer report", by=responder, services=[components["api"].service], detection_source="customer")
    run_worker_events()
    assert _state(components["api"]) == "operational"


def test_public_update_through_the_core_form_publishes_via_the_worker(components, responder):
    inc = declare("Queue backlog", by=responder)
    core.incident_post_update(incident=inc, body="Internal only", visibility="internal", by=responder)
    run_worker_events()
    assert not PublicIncident.objects.filter(incident=inc).exists()
    update = core.incident_post_update(incident=inc, body="We are looking into delays.", visibility="public", by=responder)
    run_worker_events()
    assert PublicIncident.objects.get(incident=inc).name == "Queue backlog"
    assert PublicUpdateInfo.objects.filter(update=update).exists()


def test_postmortem_published_event_shows_latest_public_summary(components, responder):
    inc = declare("Outage", by=responder)
    services.incident_publish_update(incident=inc, body="Down.", by=responder, status="resolved")
    core.timeline_record(incident=inc, kind="postmortem.published", message="pm", data={"public_summary": "First draft", "url": None})
    core.timeline_record(incident=inc, kind=PostmortemPublished.KIND, message="pm",
                         data=PostmortemPublished(postmortem_id=None, public_summary="A disk filled up.", url="https://x.test/pm").as_data())
    run_worker_events()
    pub = PublicIncident.objects.get(incident=inc)
    assert pub.postmortem_summary == "A disk filled up." and pub.postmortem_url == "https://x.test/pm"


def test_uptime_bars_from_recorded_intervals(components):
    api = components["api"]
    now = timezone.now()
    StatusComponent.objects.filter(pk=api.pk).update(start_date=(now - timedelta(days=200)).date())
    day = now - timedelta(days=3)
    ComponentStatusPeriod.objects.create(component=api, status="major_outage", started_at=day, ended_at=day + timedelta(hours=1))
    ComponentStatusPeriod.objects.create(component=api, status="partial_outage", started_at=day + timedelta(hours=2), ended_at=day + timedelta(hours=3))
    ComponentStatusPeriod.objects.create(component=api, status="under_maintenance", started_at=now - timedelta(days=1, hours=1), ended_at=now - timedelta(days=1))
    bars = snapshot(now).bars[api.pk]
    assert len(bars.days) == 90
    by_day = {d.day: d for d in bars.days}
    assert by_day[timezone.localdate(day)].status == "major_outage"
    assert by_day[timezone.localdate(now - timedelta(days=10))].status == "operational"
    counted = (now - timezone.make_aware(timezone.datetime.combine(bars.days[0].day, timezone.datetime.min.time()))).total_seconds()
    expected = round(100 * (1 - (3600 + 0.3 * 3600) / counted), 2)
    assert bars.uptime == expected  # maintenance is not downtime; partial counts 30 %


def test_maintenance_scheduler_steps_once_and_posts_each_step(components, responder):
    api = components["api"]
    now = timezone.now()
    m = services.maintenance_save(title="Network", services=[api.service], scheduled_for=now + timedelta(hours=1),
                                  scheduled_until=now + timedelta(hours=2), by=responder)
    assert list(MaintenanceUpdate.objects.filter(maintenance=m).values_list("status", flat=True)) == ["scheduled"]
    assert tasks.maintenance_sweep_task() == 0  # not due
    assert services.maintenance_step(maintenance=m, now=now + timedelta(hours=1, seconds=1)) == "in_progress"
    m.refresh_from_db()
    assert services.maintenance_step(maintenance=m, now=now + timedelta(hours=1, seconds=2)) is None  # claim twice: nothing
    assert _state(api) == "under_maintenance"
    assert tasks.maintenance_step_task(m.pk) is None  # the ETA task arriving early does nothing
    assert services.maintenance_step(maintenance=m, now=now + timedelta(hours=2, seconds=1)) == "completed"
    assert _state(api) == "operational"
    statuses = sorted(MaintenanceUpdate.objects.filter(maintenance=m).values_list("status", flat=True))
    assert statuses == ["completed", "in_progress", "scheduled"]


def test_window_found_late_is_started_and_completed_in_one_sweep(components, responder):
    now = timezone.now()
    m = services.maintenance_save(title="Past", services=[components["db"].service], scheduled_for=now - timedelta(hours=2),
                                  scheduled_until=now - timedelta(hours=1), by=responder)
    assert tasks.maintenance_sweep_task() == 1
    m.refresh_from_db()
    assert m.status == "completed"
    assert _state(components["db"]) == "operational"
    assert tasks.maintenance_sweep_task() == 0


def test_maintenance_made_elsewhere_gets_its_public_record_from_the_sweep(components):
    now = timezone.now()
    m = Maintenance.objects.create(title="Core-made", scheduled_for=now + timedelta(days=1), scheduled_until=now + timedelta(days=1, hours=1))
    m.services.set([components["web"].service])
    tasks.maintenance_sweep_task()
    assert Maintenance.objects.get(pk=m.pk).statuspage.code
