import pytest

from incidents.integrations.models import Alert, AlertStatus
from incidents.models import Incident, TimelineEvent

from .payloads import pd_trigger

pytestmark = pytest.mark.django_db
URL = "/v2/enqueue"


@pytest.fixture
def pd(make_integration):
    return make_integration("pagerduty")


def test_trigger_answers_202_like_pagerduty_and_opens_an_incident(pd, client_json, sev):
    integration, key = pd
    response = client_json(URL, pd_trigger(key, dedup_key="samplekeyhere"))
    assert response.status_code == 202
    assert response.json() == {"status": "success", "message": "Event processed", "dedup_key": "samplekeyhere"}
    alert = Alert.objects.get()
    assert alert.fingerprint == "samplekeyhere" and alert.source_severity == "critical"
    assert alert.title == "Example alert on host1.example.com"
    assert {"href": "https://example.com/", "text": "Link text"} in alert.links
    assert alert.annotations["custom_details"]["ping time"] == "1500ms"
    assert alert.labels["component"] == "postgres"
    incident = Incident.objects.get()
    assert incident.severity == sev("P0") and alert.incident == incident  # critical: the top of the scheme
    assert TimelineEvent.objects.get(kind="declared").data["integration"] == integration.pk


def test_trigger_without_dedup_key_always_opens_a_new_alert(pd, client_json):
    _i, key = pd
    first = client_json(URL, pd_trigger(key)).json()["dedup_key"]
    second = client_json(URL, pd_trigger(key)).json()["dedup_key"]
    assert first and second and first != second
    assert Alert.objects.count() == 2 and Incident.objects.count() == 2


def test_trigger_with_the_same_dedup_key_bumps_the_open_alert(pd, client_json):
    _i, key = pd
    for _ in range(3):
        assert client_json(URL, pd_trigger(key, dedup_key="disk-db-1")).status_code == 202
    alert = Alert.objects.get()
    assert alert.count == 3 and Incident.objects.count() == 1


def test_acknowledge_then_resolve_by_dedup_key(pd, client_json):
    _i, key = pd
    client_json(URL, pd_trigger(key, dedup_key="k1"))
    response = client_json(URL, {"routing_key": key, "dedup_key": "k1", "event_action": "acknowledge"})
    assert response.status_code == 202 and response.json()["dedup_key"] == "k1"
    alert, incident = Alert.objects.get(), Incident.objects.get()
    assert alert.status == AlertStatus.ACKNOWLEDGED and incident.acknowledged_at
    assert TimelineEvent.objects.filter(incident=incident, kind="acknowledged").count() == 1
    client_json(URL, {"routing_key": key, "dedup_key": "k1", "event_action": "resolve"})
    alert.refresh_from_db()
    incident.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED and incident.status == "resolved"


def test_after_resolve_a_trigger_opens_a_new_alert(pd, client_json):
    _i, key = pd
    client_json(URL, pd_trigger(key, dedup_key="k1"))
    client_json(URL, {"routing_key": key, "dedup_key": "k1", "event_action": "resolve"})
    client_json(URL, pd_trigger(key, dedup_key="k1"))
    assert Alert.objects.filter(fingerprint="k1").count() == 2
    assert Alert.objects.filter(fingerprint="k1", status=AlertStatus.FIRING).count() == 1


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_ack_or_resolve_of_unknown_or_resolved_key_is_accepted_and_dropped(pd, client_json, action):
    _i, key = pd
    response = client_json(URL, {"routing_key": key, "dedup_key": "never-seen", "event_action": action})
    assert response.status_code == 202 and response.json()["status"] == "success"
    assert not Alert.objects.exists()
    client_json(URL, pd_trigger(key, dedup_key="k2"))
    client_json(URL, {"routing_key": key, "dedup_key": "k2", "event_action": "resolve"})
    assert client_json(URL, {"routing_key": key, "dedup_key": "k2", "event_action": action}).status_code == 202
    assert Alert.objects.get().status == AlertStatus.RESOLVED


def test_dedup_keys_are_scoped_to_the_routing_key(make_integration, client_json):
    _a, key_a = make_integration("pagerduty")
    _b, key_b = make_integration("pagerduty")
    client_json(URL, pd_trigger(key_a, dedup_key="same"))
    client_json(URL, pd_trigger(key_b, dedup_key="same"))
    assert Alert.objects.filter(fingerprint="same").count() == 2
    client_json(URL, {"routing_key": key_b, "dedup_key": "same", "event_action": "resolve"})
    assert Alert.objects.get(integration__key_prefix=key_a[:8]).status == AlertStatus.FIRING


@pytest.mark.parametrize(("mutate", "error"), [
    (lambda e: e["payload"].pop("summary"), "'payload.summary' is missing or blank"),
    (lambda e: e["payload"].update(summary="x" * 1025), "'payload.summary' is longer than 1024 characters"),
    (lambda e: e["payload"].update(severity="fatal"), "'payload.severity' must be one of critical, error, warning, info"),
    (lambda e: e["payload"].pop("source"), "'payload.source' is missing or blank"),
    (lambda e: e.update(event_action="explode"), "'event_action' must be one of trigger, acknowledge, resolve"),
    (lambda e: e.update(dedup_key="d" * 256), "'dedup_key' is longer than 255 characters"),
    (lambda e: e.update(links="nope"), "'links' must be a list of objects"),
])
def test_invalid_event_is_400_in_pagerduty_error_shape(pd, client_json, mutate, error):
    _i, key = pd
    event = pd_trigger(key)
    mutate(event)
    response = client_json(URL, event)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "invalid event" and body["message"] == "Event object is invalid"
    assert error in body["errors"]
    assert not Alert.objects.exists()


def test_summary_of_exactly_1024_characters_is_accepted(pd, client_json):
    _i, key = pd
    assert client_json(URL, pd_trigger(key, summary="s" * 1024)).status_code == 202
    assert len(Alert.objects.get().title) == 1024


def test_not_json_and_missing_routing_key_are_400(client_json, db):
    response = client_json(URL, raw="{oops")
    assert response.status_code == 400 and response.json()["errors"][0].startswith("The body is not valid JSON")
    response = client_json(URL, {"event_action": "trigger"})
    assert response.status_code == 400 and response.json()["errors"] == ["'routing_key' is missing or blank"]


def test_body_over_512_kb_is_413(pd, client_json):
    _i, key = pd
    event = pd_trigger(key)
    event["payload"]["custom_details"] = {"blob": "x" * (512 * 1024)}
    assert client_json(URL, event).status_code == 413
    assert not Alert.objects.exists()


def test_unknown_routing_key_is_404(client_json, db):
    response = client_json(URL, pd_trigger("f" * 32))
    assert response.status_code == 404
    assert "dedup_key" not in response.json()


def test_triggers_repeating_past_the_threshold_raise_the_severity(make_integration, client_json, sev):
    _i, key = make_integration("pagerduty", repeat_threshold=5)
    for n in range(6):
        client_json(URL, pd_trigger(key, dedup_key="flappy", severity="warning"))
        assert Incident.objects.get().severity.key == ("P3" if n < 5 else "P1")
