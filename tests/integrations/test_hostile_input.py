"""Alert senders are untrusted: whatever a payload holds, each alert is recorded (its text made
safe where it is stored) or refused with a 4xx naming the field. A 5xx means only "the portal
is failing, retry". Runs on SQLite and on PostgreSQL (which refuses NUL and lone surrogates)."""

import json

import pytest

from incidents.integrations.models import Alert
from incidents.models import Incident

from .payloads import am_alert, am_payload, pd_trigger

pytestmark = pytest.mark.django_db

TRUNCATED = "…[truncated]"


def am_url(key):
    return f"/api/v1/integrations/{key}/alertmanager/"


@pytest.fixture
def am(make_integration):
    return make_integration("alertmanager")


@pytest.fixture
def pd(make_integration):
    return make_integration("pagerduty")


@pytest.fixture
def hook(make_integration):
    return make_integration("webhook")


def test_nul_byte_in_an_alertmanager_alert_is_recorded_without_it(am, client_json):
    _integration, key = am
    alert = am_alert(instance="db-1\x00:9187")
    alert["annotations"]["summary"] = "Database\x00 is down"
    response = client_json(am_url(key), am_payload(alert))
    assert response.status_code == 200, response.content
    stored = Alert.objects.get()
    assert "\x00" not in stored.title and "Database" in stored.title
    assert "\x00" not in stored.labels["instance"] and stored.labels["instance"].startswith("db-1")
    assert "\x00" not in json.dumps(stored.payload, ensure_ascii=False)
    assert Incident.objects.count() == 1


def test_lone_surrogates_and_invalid_utf8_are_recorded_replaced(am, client_json):
    _integration, key = am
    body = json.dumps(am_payload(am_alert(team="ops\ud800x"))).encode()  # json escapes it: \ud800
    body = body.replace(b'"job": "postgres"', b'"job": "post\xff\xfegres"')  # and raw invalid UTF-8
    response = client_json(am_url(key), raw=body)
    assert response.status_code == 200, response.content
    stored = Alert.objects.get()
    assert stored.labels["team"] == "ops\ufffdx"
    assert stored.labels["job"].startswith("post") and stored.labels["job"].endswith("gres")
    stored.labels["job"].encode()  # valid text now


def test_raw_control_characters_inside_json_strings_are_recorded(am, client_json):
    _integration, key = am
    body = json.dumps(am_payload(am_alert(team="OPS"))).encode().replace(b"OPS", b"o\x00p\x1bs\r\n")
    response = client_json(am_url(key), raw=body)
    assert response.status_code == 200, response.content
    assert Alert.objects.get().labels["team"] == "op\x1bs\r\n"


def test_megabyte_label_is_stored_truncated_and_marked(am, client_json):
    _integration, key = am
    alert = am_alert(blob="x" * 400_000)
    alert["annotations"]["description"] = "d" * 100_000
    response = client_json(am_url(key), am_payload(alert))
    assert response.status_code == 200, response.content
    stored = Alert.objects.get()
    assert stored.labels["blob"].endswith(TRUNCATED) and len(stored.labels["blob"]) < 10_000
    assert stored.description.endswith(TRUNCATED) and len(stored.description) <= 20_000
    assert len(json.dumps(stored.payload)) < 200_000


@pytest.mark.parametrize("starts_at", [
    "9999-12-31T23:59:59-10:00",  # a valid RFC 3339 value that overflows once in UTC
    "0000-01-01T00:00:00Z",  # year 0
    "99999-01-01T00:00:00Z",  # five-digit year
    "1500-01-01T00:00:00Z",  # before any sane alert
    "2026-13-45T99:00:00Z",  # not a date at all
])
def test_out_of_calendar_starts_at_is_replaced_by_receipt_time(am, client_json, starts_at):
    _integration, key = am
    alert = am_alert()
    alert["startsAt"] = starts_at
    response = client_json(am_url(key), am_payload(alert))
    assert response.status_code == 200, response.content
    stored = Alert.objects.get()
    assert stored.starts_at == stored.first_seen_at
    Incident.objects.get()  # readable


@pytest.mark.parametrize("value", ["NaN", 1e308, 10**30, -1, True, {"a": 1}, ["2026-01-01T00:00:00Z"]])
def test_a_starts_at_of_the_wrong_type_refuses_that_alert_by_name(am, client_json, value):
    _integration, key = am
    alert = am_alert()
    alert["startsAt"] = value
    response = client_json(am_url(key), am_payload(alert))
    assert response.status_code == 400, response.content
    assert "alerts[0].startsAt" in response.json()["message"]
    assert not Alert.objects.exists()


def test_one_bad_alert_in_a_batch_never_loses_the_others(am, client_json):
    _integration, key = am
    good1 = am_alert(fingerprint="1111")
    bad = am_alert(fingerprint="2222")
    bad["status"] = "exploded"
    good2 = am_alert(fingerprint="3333", instance="db-3")
    worse = am_alert(fingerprint="4444")
    worse["labels"] = "not an object"
    response = client_json(am_url(key), am_payload(good1, bad, good2, worse))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["alerts"] == 2
    assert [r["index"] for r in body["refused"]] == [1, 3]
    assert "alerts[1].status" in body["refused"][0]["errors"][0]
    assert "alerts[3].labels" in body["refused"][1]["errors"][0]
    assert set(Alert.objects.values_list("fingerprint", flat=True)) == {"1111", "3333"}


def test_a_batch_of_only_bad_alerts_is_refused_with_400(am, client_json):
    _integration, key = am
    bad = am_alert()
    bad["status"] = None
    response = client_json(am_url(key), am_payload(bad))
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("alerts[0].status")


def test_deeply_nested_json_answers_400_not_5xx(am, client_json):
    _integration, key = am
    response = client_json(am_url(key), raw="[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400, response.content
    assert "nest" in response.json()["message"]


def test_nesting_inside_one_alert_is_stored_cut_short(am, client_json):
    _integration, key = am
    alert = am_alert(nested="NESTED")
    alert["extra"] = "NESTED"
    deep = '{"d": ' * 500 + '"leaf"' + "}" * 500
    response = client_json(am_url(key), raw=json.dumps(am_payload(alert)).replace('"NESTED"', deep))
    assert response.status_code == 200, response.content
    stored = Alert.objects.get()
    assert len(stored.labels["nested"]) < 10_000
    assert "nested deeper than" in json.dumps(stored.payload)


def test_nan_and_huge_numbers_are_recorded(hook, client_json):
    _integration, key = hook
    raw = '{"title": 1' + "0" * 5000 + ', "status": "firing", "value": NaN, "big": 1e999, "severity": -Infinity}'
    response = client_json(f"/api/v1/integrations/{key}/webhook/", raw=raw)
    assert response.status_code == 200, response.content
    stored = Alert.objects.get()
    assert stored.title.startswith("10000") and stored.title.endswith(TRUNCATED) and len(stored.title) == 1024
    assert stored.payload["value"] == "NaN"


def test_control_characters_in_a_title_are_flattened(am, client_json):
    _integration, key = am
    alert = am_alert()
    alert["annotations"]["summary"] = "line one\r\nBcc: victim@example.com\x1b[31m\u202egnp.exe"
    response = client_json(am_url(key), am_payload(alert))
    assert response.status_code == 200, response.content
    stored = Alert.objects.get()
    assert "\r" not in stored.title and "\n" not in stored.title and "\x1b" not in stored.title
    assert "\u202e" in stored.title  # bidirectional text is text: stored, escaped where it leaves
    assert "\r" not in Incident.objects.get().title


@pytest.mark.parametrize("timestamp", ["0000-01-01T00:00:00Z", "99999-01-01T00:00:00Z", "9999-12-31T23:59:59-10:00", "1900-01-01T00:00:00Z"])
def test_pagerduty_out_of_range_timestamp_falls_back_to_receipt_time(pd, client_json, timestamp):
    _integration, key = pd
    event = pd_trigger(key, dedup_key="ts")
    event["payload"]["timestamp"] = timestamp
    response = client_json("/v2/enqueue", event)
    assert response.status_code == 202, response.content
    stored = Alert.objects.get()
    assert stored.starts_at == stored.first_seen_at


@pytest.mark.parametrize("timestamp", ["NaN", 1e20, 10**40, "not a time"])
def test_pagerduty_malformed_timestamp_is_an_invalid_event(pd, client_json, timestamp):
    _integration, key = pd
    event = pd_trigger(key, dedup_key="ts")
    event["payload"]["timestamp"] = timestamp
    response = client_json("/v2/enqueue", event)
    assert response.status_code == 400, response.content
    assert "payload.timestamp" in response.json()["errors"][0]


def test_pagerduty_nul_everywhere_is_recorded(pd, client_json):
    _integration, key = pd
    event = pd_trigger(key, dedup_key="nul\x00key", summary="sum\x00mary \ud800")
    event["payload"]["custom_details"] = {"k\x00": "v\x00", "n": float("nan")}
    event["links"] = [{"href": "https://example.com/\x00", "text": "t\x00"}]
    response = client_json("/v2/enqueue", raw=json.dumps(event))
    assert response.status_code == 202, response.content
    stored = Alert.objects.get()
    assert "\x00" not in stored.title and "\x00" not in stored.fingerprint
    # the same dedup key resolves it: the cleaning is stable
    response = client_json("/v2/enqueue", {"routing_key": key, "event_action": "resolve", "dedup_key": "nul\x00key"})
    assert response.status_code == 202
    stored.refresh_from_db()
    assert stored.status == "resolved"


def test_webhook_batch_keeps_the_good_items(hook, client_json):
    _integration, key = hook
    response = client_json(f"/api/v1/integrations/{key}/webhook/", [
        {"title": "ok one", "fingerprint": "a"}, {"no": "title"}, "not an object", {"title": "ok two", "fingerprint": "b"},
    ])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["alerts"] == 2 and [r["index"] for r in body["refused"]] == [1, 2]
    assert set(Alert.objects.values_list("fingerprint", flat=True)) == {"a", "b"}


def test_heartbeat_ping_with_hostile_body_is_fine(make_integration, client_json):
    _integration, key = make_integration("heartbeat")
    response = client_json(f"/api/v1/integrations/{key}/heartbeat/", raw=b"\x00\xff" + b"[" * 10_000)
    assert response.status_code == 200


def test_alerts_beyond_the_per_delivery_limit_are_refused_by_name(am, client_json, settings):
    settings.INGEST_MAX_ALERTS = 2
    _integration, key = am
    alerts = [am_alert(fingerprint=f"f{i}", instance=f"db-{i}") for i in range(4)]
    response = client_json(am_url(key), am_payload(*alerts))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["alerts"] == 2 and [r["index"] for r in body["refused"]] == [2, 3]
    assert "more than 2 alerts" in body["refused"][0]["errors"][0]
    assert Alert.objects.count() == 2
