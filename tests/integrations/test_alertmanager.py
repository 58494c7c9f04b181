from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from incidents.integrations.models import Alert, AlertStatus, IntegrationMaintenance
from incidents.integrations.services import configuration, ingest
from incidents.models import Incident, Maintenance, MaintenanceStatus, TimelineEvent

from .payloads import am_alert, am_payload

pytestmark = pytest.mark.django_db


def url(key):
    return f"/api/v1/integrations/{key}/alertmanager/"


@pytest.fixture
def am(make_integration):
    return make_integration("alertmanager")


def test_firing_alert_opens_one_incident_with_the_alert(am, client_json, sev):
    integration, key = am
    response = client_json(url(key), am_payload())
    assert response.status_code == 200, response.content
    incident = Incident.objects.get()
    assert incident.detection_source == "alert"
    assert incident.severity == sev("P0")  # severity=critical through the default rules: the top of the scheme
    assert list(incident.services.all()) == [integration.service]
    assert incident.title.startswith("DatabaseDown: Database is down")
    declared = TimelineEvent.objects.get(incident=incident, kind="declared")
    assert declared.data["integration"] == integration.pk and declared.data["detection_source"] == "alert"
    alert = Alert.objects.get()
    assert alert.status == AlertStatus.FIRING and alert.incident == incident
    assert alert.ends_at is None  # Go's zero endsAt means nothing
    assert alert.starts_at.isoformat().startswith("2026-11-25T08:59:30.123456")
    assert alert.labels["instance"] == "db-1:9187"
    assert {"href": am_alert()["generatorURL"], "text": "Source (generatorURL)"} in alert.links
    assert TimelineEvent.objects.filter(incident=incident, kind="alert.firing").count() == 1


def test_default_rules_map_critical_to_the_top_of_the_active_scheme(make_integration, client_json, sev):
    """A P1-P4 scheme (P0 retired): "critical" opens a P1, "warning" the lowest, "error" the one above it."""
    from incidents import catalog

    catalog.severity_update(severity=sev("P0"), by=None, is_active=False)
    integration, key = make_integration("alertmanager")
    assert [r["severity"] for r in integration.severity_rules] == ["P1", "P2", "P3"]
    response = client_json(url(key), am_payload())
    assert response.status_code == 200, response.content
    assert Incident.objects.get().severity == sev("P1")


def test_repeated_notifications_are_harmless(am, client_json):
    _integration, key = am
    for _ in range(3):
        assert client_json(url(key), am_payload()).status_code == 200
    assert Incident.objects.count() == 1
    alert = Alert.objects.get()
    assert alert.count == 3
    assert TimelineEvent.objects.filter(kind="alert.firing").count() == 1
    assert TimelineEvent.objects.filter(kind="severity_changed").count() == 0


def test_second_alert_of_the_group_joins_the_incident(am, client_json):
    _integration, key = am
    client_json(url(key), am_payload(am_alert()))
    client_json(url(key), am_payload(am_alert(), am_alert(fingerprint="ffff000011112222", instance="db-2:9187")))
    assert Incident.objects.count() == 1
    assert Alert.objects.filter(incident=Incident.objects.get()).count() == 2


def test_other_group_key_opens_another_incident_unless_grouping_says_otherwise(make_integration, client_json):
    _i, key = make_integration("alertmanager")
    client_json(url(key), am_payload(am_alert(), group_key="{}:{instance=\"db-1\"}"))
    client_json(url(key), am_payload(am_alert(fingerprint="0000aaaa"), group_key="{}:{instance=\"db-2\"}"))
    assert Incident.objects.count() == 2
    _j, key2 = make_integration("alertmanager", group_by=["alertname"])
    client_json(url(key2), am_payload(am_alert(fingerprint="1"), group_key="g1"))
    client_json(url(key2), am_payload(am_alert(fingerprint="2"), group_key="g2"))
    assert Incident.objects.count() == 3


def test_state_comes_from_status_never_from_ends_at(am, client_json):
    _integration, key = am
    alert = am_alert()
    alert["endsAt"] = (timezone.now() - timedelta(hours=1)).isoformat()  # in the past, yet firing
    client_json(url(key), am_payload(alert))
    assert Alert.objects.get().status == AlertStatus.FIRING
    assert Incident.objects.get().status == "investigating"


def test_incident_auto_resolves_when_all_its_alerts_resolve(am, client_json):
    _integration, key = am
    a1, a2 = am_alert(fingerprint="f1"), am_alert(fingerprint="f2", instance="db-2")
    client_json(url(key), am_payload(a1, a2))
    client_json(url(key), am_payload(am_alert(fingerprint="f1", status="resolved"), a2))
    incident = Incident.objects.get()
    assert incident.status == "investigating"
    client_json(url(key), am_payload(am_alert(fingerprint="f1", status="resolved"), am_alert(fingerprint="f2", instance="db-2", status="resolved")))
    incident.refresh_from_db()
    assert incident.status == "resolved" and incident.resolved_at
    assert Alert.objects.filter(status=AlertStatus.RESOLVED).count() == 2
    assert TimelineEvent.objects.filter(incident=incident, kind="alert.resolved").count() == 2
    # Alertmanager repeats the resolved notification: nothing more happens.
    client_json(url(key), am_payload(am_alert(fingerprint="f1", status="resolved")))
    assert Alert.objects.count() == 2 and TimelineEvent.objects.filter(kind="resolved").count() == 1


def test_auto_resolve_off_leaves_the_incident_open(make_integration, client_json):
    _i, key = make_integration("alertmanager", auto_resolve=False)
    client_json(url(key), am_payload())
    client_json(url(key), am_payload(am_alert(status="resolved")))
    assert Alert.objects.get().status == AlertStatus.RESOLVED
    assert Incident.objects.get().status == "investigating"


def test_flapping_reopens_the_same_incident_within_the_window(am, client_json):
    _integration, key = am
    client_json(url(key), am_payload())
    client_json(url(key), am_payload(am_alert(status="resolved")))
    client_json(url(key), am_payload())
    incident = Incident.objects.get()
    assert incident.status == "investigating"
    assert TimelineEvent.objects.filter(incident=incident, kind="reopened").count() == 1
    assert Alert.objects.count() == 2  # the re-fired alert is a new alert row


def test_firing_after_the_flap_window_opens_a_new_incident(make_integration, client_json):
    _i, key = make_integration("alertmanager", flap_window=timedelta(0))
    client_json(url(key), am_payload())
    client_json(url(key), am_payload(am_alert(status="resolved")))
    client_json(url(key), am_payload())
    assert Incident.objects.count() == 2


def test_more_than_threshold_firings_in_the_window_raise_to_p1(make_integration, client_json, sev):
    _i, key = make_integration("alertmanager", repeat_threshold=2, severity_rules=[{"match": {"severity": "critical"}, "severity": "P3"}])
    for n in range(3):
        client_json(url(key), am_payload(am_alert(fingerprint=f"f{n}", instance=f"db-{n}")))
        incident = Incident.objects.get()
        assert incident.severity == (sev("P3") if n < 2 else sev("P1"))
    event = TimelineEvent.objects.get(kind="severity_changed")
    assert event.data["to"] == "P1" and "3 firings" in event.message


def test_custom_severity_rules_first_match_wins(make_integration, client_json, sev):
    _i, key = make_integration("alertmanager", severity_rules=[
        {"match": {"job": "postgres", "severity": ["critical", "page"]}, "severity": "P0"},
        {"match": {"severity": "critical"}, "severity": "P2"},
    ])
    client_json(url(key), am_payload())
    assert Incident.objects.get().severity == sev("P0")
    assert Alert.objects.get().severity == "P0"


def test_alert_during_service_maintenance_is_recorded_but_pages_nobody(am, client_json):
    integration, key = am
    now = timezone.now()
    m = Maintenance.objects.create(title="DB upgrade", scheduled_for=now - timedelta(minutes=5), scheduled_until=now + timedelta(hours=1),
                                   status=MaintenanceStatus.IN_PROGRESS)
    m.services.add(integration.service)
    assert client_json(url(key), am_payload()).status_code == 200
    alert = Alert.objects.get()
    assert alert.suppressed and "DB upgrade" in alert.suppressed_reason and alert.incident is None
    assert not Incident.objects.exists()


def test_alert_during_integration_window_is_suppressed(am, client_json):
    integration, key = am
    now = timezone.now()
    IntegrationMaintenance.objects.create(integration=integration, starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(minutes=30), reason="noisy deploy")
    client_json(url(key), am_payload())
    assert Alert.objects.get().suppressed and not Incident.objects.exists()
    # a completed maintenance does not suppress
    IntegrationMaintenance.objects.all().delete()
    client_json(url(key), am_payload(am_alert(fingerprint="other")))
    assert Incident.objects.count() == 1


@pytest.mark.parametrize(("body", "needle"), [
    ("{not json", "not valid JSON"),
    ('["a list"]', "JSON object"),
    ('{"version": "4", "groupKey": "g"}', "alerts"),
    ('{"version": "3", "groupKey": "g", "alerts": []}', "version"),
])
def test_malformed_payload_is_400_naming_the_problem(am, client_json, body, needle):
    _integration, key = am
    response = client_json(url(key), raw=body)
    assert response.status_code == 400
    assert needle in response.json()["message"]


def test_one_bad_alert_is_refused_alone_and_named(am, client_json):
    _integration, key = am
    bad = am_alert(fingerprint="bad")
    bad["status"] = "exploded"
    response = client_json(url(key), am_payload(am_alert(), bad))
    assert response.status_code == 200  # Alertmanager would re-send the whole group after a 4xx/5xx: keep the good one
    assert response.json()["refused"] == [{"index": 1, "errors": ["alerts[1].status must be 'firing' or 'resolved', not 'exploded'."]}]
    assert Alert.objects.get().fingerprint != "bad" and Incident.objects.count() == 1


def test_unknown_revoked_or_wrong_kind_key_is_404_revealing_nothing(am, make_integration, client_json):
    integration, key = am
    unknown = client_json(url("0" * 32), am_payload())
    _pd, pd_key = make_integration("pagerduty")
    wrong_kind = client_json(url(pd_key), am_payload())
    configuration.integration_revoke(integration=integration)
    revoked = client_json(url(key), am_payload())
    assert unknown.status_code == wrong_kind.status_code == revoked.status_code == 404
    assert unknown.content == wrong_kind.content == revoked.content
    assert not Alert.objects.exists()


def test_body_over_the_limit_is_413(am, client_json, settings):
    settings.INGEST_MAX_BODY_BYTES = 2048
    _integration, key = am
    big = am_alert()
    big["annotations"]["description"] = "x" * 4096
    response = client_json(url(key), am_payload(big))
    assert response.status_code == 413
    assert not Alert.objects.exists()


def test_rate_limit_answers_429_with_retry_after(make_integration, client_json):
    _i, key = make_integration("alertmanager", rate_limit_per_minute=2)
    assert client_json(url(key), am_payload()).status_code == 200
    assert client_json(url(key), am_payload()).status_code == 200
    response = client_json(url(key), am_payload())
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 61
    assert Alert.objects.get().count == 2


def test_database_failure_answers_503_so_alertmanager_retries(am, client_json, monkeypatch):
    _integration, key = am

    def broken(**kw):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(ingest, "alerts_ingest", broken)
    response = client_json(url(key), am_payload())
    assert response.status_code == 503 and response["Retry-After"]


def test_answer_comes_after_commit_and_a_dead_broker_still_accepts(am, client_json, monkeypatch, django_capture_on_commit_callbacks):
    from kombu.exceptions import OperationalError as BrokerDown

    from incidents.models import EventDelivery
    from incidents.tasks import event_subscriber_task

    def down(**kw):
        raise BrokerDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(event_subscriber_task, "apply_async", down)
    _integration, key = am
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_json(url(key), am_payload())
    assert response.status_code == 200
    assert callbacks  # dispatch was queued for after commit, and its failure was swallowed
    assert TimelineEvent.objects.filter(kind="declared", dispatched_at__isnull=True).exists()  # left for the sweep
    rows = EventDelivery.objects.filter(event__kind="declared", status="pending")
    assert rows.exists() and all(r.next_try_at <= timezone.now() for r in rows)  # due at once: the first sweep sends them


def test_get_is_not_allowed(am, client):
    _integration, key = am
    assert client.get(url(key)).status_code == 405


def test_alert_still_firing_after_the_maintenance_window_opens_its_incident(am, client_json):
    integration, key = am
    now = timezone.now()
    window = IntegrationMaintenance.objects.create(integration=integration, starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(minutes=30))
    client_json(url(key), am_payload())
    client_json(url(key), am_payload())  # repeats during the window page nobody either
    assert not Incident.objects.exists() and Alert.objects.get().count == 2
    IntegrationMaintenance.objects.filter(pk=window.pk).update(ends_at=now - timedelta(seconds=1), starts_at=now - timedelta(minutes=2))
    client_json(url(key), am_payload())
    alert = Alert.objects.get()
    assert alert.incident is not None and not alert.suppressed and alert.count == 3
    assert Incident.objects.count() == 1
