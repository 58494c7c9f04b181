"""A delivery costs a constant number of queries, whatever the history."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.integrations.selectors import forget_integrations

from .payloads import am_alert, am_payload

pytestmark = pytest.mark.django_db


def _count(client, url, body) -> int:
    forget_integrations()  # count the key lookup too
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(url, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_queries_per_delivery_are_constant(client, make_integration):
    _i, key = make_integration("alertmanager")
    url = f"/api/v1/integrations/{key}/alertmanager/"
    _count(client, url, am_payload(am_alert(fingerprint="warm", instance="warm"), group_key="warm"))  # today's INC counter
    new_first = _count(client, url, am_payload(am_alert(fingerprint="f0", instance="h0"), group_key="g0"))
    repeat_first = _count(client, url, am_payload(am_alert(fingerprint="f0", instance="h0"), group_key="g0"))
    for n in range(1, 30):
        _count(client, url, am_payload(am_alert(fingerprint=f"f{n}", instance=f"h{n}"), group_key=f"g{n}"))
    new_later = _count(client, url, am_payload(am_alert(fingerprint="f99", instance="h99"), group_key="g99"))
    repeat_later = _count(client, url, am_payload(am_alert(fingerprint="f7", instance="h7"), group_key="g7"))
    assert repeat_first == repeat_later == 2  # the key lookup and one UPDATE
    assert new_first == new_later
