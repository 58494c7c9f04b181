"""Property tests: whatever a sender puts in whatever field, an alert is recorded or refused with a
4xx, never an exception or a 5xx. Hypothesis draws hostile text (NUL, lone surrogates,
bidirectional overrides, line breaks, escapes, huge strings), numbers beyond any integer or
float type, NaN and infinities, timestamps outside the calendar and nested JSON, in every field
of Alertmanager, PagerDuty and generic webhook deliveries and of the ingest service's input.

The suite runs on whatever DATABASE_URL names: on PostgreSQL these reach a database that
refuses NUL and invalid UTF-8, which is the point (CI runs it there)."""

import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents import untrusted
from incidents.integrations.models import Alert
from incidents.integrations.parsers import alertmanager, pagerduty, webhook
from incidents.integrations.parsers.base import FIRING, RESOLVED, AlertIn, PayloadError, bounded, parse_json
from incidents.integrations.services import ingest
from incidents.models import Incident

HOSTILE = ["\x00", "\ud800", "\udfff", "\u202e", "\u2066", "\r", "\n", "\x1b", "\ufeff", "\uffff", "\x7f", "\u0085", "😀", "é"]
TIMESTAMPS = [
    "0001-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "99999-12-31T23:59:59Z", "9999-12-31T23:59:59-10:00", "1500-01-01T00:00:00Z",
    "2026-13-45T99:00:00Z", "2026-11-25T08:59:30.123456789Z", "2026-11-25T08:59:30+0530", "NaN", "", "2026-11-25",
]
text = st.one_of(
    st.text(alphabet=st.one_of(st.characters(), st.sampled_from(HOSTILE)), max_size=30),
    st.sampled_from(TIMESTAMPS),
    st.builds(lambda c, n: c * n, st.sampled_from(["x", "\x00", "é"]), st.integers(1000, 6000)),
)
numbers = st.one_of(st.integers(-(10**40), 10**40), st.floats(allow_nan=True, allow_infinity=True), st.just(10**400))
scalars = st.one_of(st.none(), st.booleans(), numbers, text)
json_values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(text, kids, max_size=3), max_leaves=10)
deep = st.integers(1, 400).map(lambda n: '{"d": ' * n + "1" + "}" * n)
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
ON_DATABASE = settings(PROPERTY, max_examples=25)


def either(good, anything=json_values):
    """Mostly the right shape (so deliveries get past the envelope), now and then anything."""
    return st.one_of(good, good, good, good, good, anything)


def am_alert_strategy():
    return st.fixed_dictionaries({
        "status": either(st.sampled_from(["firing", "resolved"])),
        "labels": either(st.dictionaries(text, either(text), min_size=1, max_size=4)),
        "annotations": either(st.dictionaries(st.sampled_from(["summary", "description", "runbook_url", "x"]) | text, either(text), max_size=4)),
        "startsAt": either(st.sampled_from(TIMESTAMPS)),
        "endsAt": either(st.sampled_from(TIMESTAMPS)),
        "generatorURL": either(text),
        "fingerprint": either(st.sampled_from(["f1", "f2", "f3"]) | text),
    })


am_payloads = st.fixed_dictionaries({
    "version": either(st.just("4")),
    "groupKey": either(st.sampled_from(["g1", "g2"]) | text),
    "receiver": either(text),
    "externalURL": either(text),
    "groupLabels": either(st.dictionaries(text, text, max_size=2)),
    "alerts": st.lists(either(am_alert_strategy()), min_size=1, max_size=4),
})
pd_events = st.fixed_dictionaries({
    "event_action": either(st.sampled_from(["trigger", "acknowledge", "resolve"])),
    "dedup_key": either(st.sampled_from(["d1", "d2"]) | text),
    "payload": either(st.fixed_dictionaries({
        "summary": either(text), "source": either(text), "severity": either(st.sampled_from(["critical", "error", "warning", "info"])),
        "timestamp": either(st.sampled_from(TIMESTAMPS)), "component": either(text), "group": either(text), "class": either(text),
        "custom_details": json_values,
    })),
    "links": either(st.lists(st.fixed_dictionaries({"href": either(text), "text": either(text)}), max_size=2)),
    "images": either(st.lists(st.fixed_dictionaries({"src": either(text), "href": either(text), "alt": either(text)}), max_size=2)),
    "client": either(text),
    "client_url": either(text),
})
webhook_items = st.fixed_dictionaries({
    "title": either(text | numbers), "status": either(st.sampled_from(["firing", "resolved", "ok"]) | text),
    "fingerprint": either(text), "severity": either(text), "description": either(text), "link": either(text),
}, optional={"extra": json_values})
webhook_payloads = st.one_of(webhook_items, st.lists(either(webhook_items), min_size=1, max_size=4),
                             st.fixed_dictionaries({"alerts": st.lists(either(webhook_items), min_size=1, max_size=4)}))


def body_of(value) -> bytes:
    return json.dumps(value).encode()  # NaN and Infinity as the tokens senders emit, surrogates as \ud800


def assert_storable(a: AlertIn) -> None:
    """Every text of a bounded alert is valid UTF-8 without NUL; every JSON value dumps strictly."""
    for value in (a.title, a.description, a.fingerprint, a.group_value, a.source_severity):
        assert "\x00" not in value
        value.encode("utf-8")
    for value in (a.labels, a.annotations, a.links, a.payload, a.fields):
        dumped = json.dumps(value, allow_nan=False, ensure_ascii=False)
        assert "\x00" not in dumped
        dumped.encode("utf-8")
    assert len(a.title) <= 1024 and len(a.description) <= 20_000 and len(a.fingerprint) <= 255


# --- parsers (no database) ---------------------------------------------------------------------


def read_or_refuse(parse):
    """parse() either refuses with named errors or gives alerts that can all be stored."""
    try:
        parsed = parse()
    except PayloadError as exc:
        assert exc.errors
        return None
    for alert in parsed.alerts:
        assert_storable(bounded(alert))
    return parsed


@PROPERTY
@given(payload=st.one_of(am_payloads, json_values))
def test_alertmanager_parser_reads_or_refuses_anything(payload):
    parsed = read_or_refuse(lambda: alertmanager.parse(parse_json(body_of(payload))))
    if parsed is None:
        return
    assert all(alert.starts_at is None or untrusted.in_calendar(alert.starts_at) for alert in parsed.alerts)
    assert all(r.errors and r.errors[0].startswith(f"alerts[{r.index}]") for r in parsed.refused)
    assert len(parsed.alerts) + len(parsed.refused) == len(payload["alerts"])


@PROPERTY
@given(event=st.one_of(pd_events, json_values), key=text)
def test_pagerduty_parser_reads_or_refuses_anything(event, key):
    if isinstance(event, dict):
        event["routing_key"] = key

    def parse():
        data = parse_json(body_of(event))
        pagerduty.routing_key(data)
        return pagerduty.parse(data)

    read_or_refuse(parse)


@PROPERTY
@given(payload=st.one_of(webhook_payloads, json_values), mapping_title=st.sampled_from(["title", "extra.0", "missing.path", "extra"]))
def test_webhook_parser_reads_or_refuses_anything(payload, mapping_title):
    mapping = {"title": mapping_title, "status": "status", "fingerprint": "fingerprint", "severity": "severity",
               "description": "description", "link": "link"}
    read_or_refuse(lambda: webhook.parse(parse_json(body_of(payload)), mapping=mapping, resolved_values=["resolved", "\x00"]))


@PROPERTY
@given(body=st.one_of(st.binary(max_size=200), deep.map(str.encode), st.just(b"[" * 50_000)))
def test_any_bytes_are_json_or_a_payload_error(body):
    try:
        data = parse_json(body)
    except PayloadError:
        return
    json.dumps(data, allow_nan=False)


# --- the endpoints and the service, on the database ---------------------------------------------


@pytest.fixture
def keys(make_integration):
    return {kind: make_integration(kind)[1] for kind in ("alertmanager", "pagerduty", "webhook")}


def _no_storage_refusal(body: dict) -> None:
    """Refusals name a field the sender got wrong; "cannot be stored" would mean the portal let
    through something the database refused (the safety net in the service caught it)."""
    text = json.dumps(body)
    assert "cannot be stored" not in text, text[:500]


def _check_rows():
    for alert in Alert.objects.all():  # every stored row reads back (a year-10000 time would not)
        alert.title.encode()
    list(Incident.objects.values_list("title", "started_at"))


@pytest.mark.django_db
@ON_DATABASE
@given(payload=st.one_of(am_payloads, json_values))
def test_alertmanager_endpoint_records_or_refuses_never_5xx(keys, client_json, payload):
    response = client_json(f"/api/v1/integrations/{keys['alertmanager']}/alertmanager/", raw=body_of(payload))
    assert response.status_code in (200, 400, 413), response.content[:500]
    body = response.json()
    _no_storage_refusal(body)
    if response.status_code == 200:
        assert body["alerts"] + body["dropped"] + len(body["refused"]) == len(payload["alerts"])
    else:
        assert body["message"]
    _check_rows()


@pytest.mark.django_db
@ON_DATABASE
@given(event=st.one_of(pd_events, json_values))
def test_pagerduty_endpoint_records_or_refuses_never_5xx(keys, client_json, event):
    if isinstance(event, dict):
        event["routing_key"] = keys["pagerduty"]
    response = client_json("/v2/enqueue", raw=body_of(event))
    assert response.status_code in (202, 400, 413), response.content[:500]
    _no_storage_refusal(response.json())
    _check_rows()


@pytest.mark.django_db
@ON_DATABASE
@given(payload=st.one_of(webhook_payloads, json_values))
def test_webhook_endpoint_records_or_refuses_never_5xx(keys, client_json, payload):
    response = client_json(f"/api/v1/integrations/{keys['webhook']}/webhook/", raw=body_of(payload))
    assert response.status_code in (200, 400, 413), response.content[:500]
    _no_storage_refusal(response.json())
    _check_rows()


alerts_in = st.builds(
    AlertIn,
    action=st.sampled_from([FIRING, FIRING, RESOLVED]),
    fingerprint=st.sampled_from(["a", "b"]) | text,
    group_value=st.sampled_from(["g"]) | text,
    title=text,
    description=text,
    source_severity=text,
    labels=st.dictionaries(text, text | json_values, max_size=3),
    annotations=st.dictionaries(text, json_values, max_size=3),
    links=st.lists(st.fixed_dictionaries({"href": text, "text": text}), max_size=2),
    payload=st.dictionaries(text, json_values, max_size=3) | deep.map(json.loads),
    starts_at=st.none() | st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    fields=st.dictionaries(text, text, max_size=3),
    counts_as_occurrence=st.booleans(),
)


@pytest.mark.django_db
@ON_DATABASE
@given(batch=st.lists(alerts_in, min_size=1, max_size=3))
def test_ingest_service_records_or_refuses_any_alert(make_integration, batch):
    integration, _key = make_integration("webhook")
    result = ingest.alerts_ingest(integration=integration, alerts=batch)
    assert result.accepted + result.dropped == len(batch) and not result.refused
    _check_rows()
