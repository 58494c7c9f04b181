"""Concurrent deliveries of the same alert (Alertmanager retries, several replicas) never open
two incidents. Real threads, real connections, PostgreSQL."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client

from incidents.integrations.models import Alert, AlertGroup
from incidents.integrations.services import configuration
from incidents.models import Incident, Severity, TimelineEvent
from tests.incidents.factories import ServiceFactory

from .payloads import am_alert, am_payload, pd_trigger

THREADS = 16


def _fire(posts):
    barrier = threading.Barrier(len(posts))
    results = [None] * len(posts)

    def run(i, url, body):
        try:
            barrier.wait()
            results[i] = Client().post(url, data=json.dumps(body), content_type="application/json").status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, url, body)) for i, (url, body) in enumerate(posts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.django_db(transaction=True)
def test_same_alert_from_many_threads_opens_one_incident(require_postgres, seeded):
    service = ServiceFactory()
    _i, key = configuration.integration_create(name="am", service=service, kind="alertmanager", default_severity=Severity.objects.get(key="P2"))
    url = f"/api/v1/integrations/{key}/alertmanager/"
    codes = _fire([(url, am_payload())] * THREADS)
    assert codes == [200] * THREADS
    assert Incident.objects.count() == 1
    assert AlertGroup.objects.count() == 1
    alert = Alert.objects.get()
    assert alert.count == THREADS
    assert TimelineEvent.objects.filter(kind="declared").count() == 1


@pytest.mark.django_db(transaction=True)
def test_different_alerts_of_one_group_from_many_threads_share_one_incident(require_postgres, seeded):
    service = ServiceFactory()
    _i, key = configuration.integration_create(name="am", service=service, kind="alertmanager", default_severity=Severity.objects.get(key="P2"),
                                          flap_window=timedelta(0))
    url = f"/api/v1/integrations/{key}/alertmanager/"
    # The group exists already and its incident is resolved: the next firings race to open a new one.
    Client().post(url, data=json.dumps(am_payload(am_alert(fingerprint="old"))), content_type="application/json")
    Client().post(url, data=json.dumps(am_payload(am_alert(fingerprint="old", status="resolved"))), content_type="application/json")
    assert Incident.objects.get().status == "resolved"
    posts = [(url, am_payload(am_alert(fingerprint=f"fp{n % 8}", instance=f"db-{n % 8}"))) for n in range(THREADS)]
    codes = _fire(posts)
    assert codes == [200] * THREADS
    assert Incident.objects.count() == 2 and Incident.objects.filter(status="investigating").count() == 1
    assert Alert.objects.exclude(fingerprint="old").count() == 8
    assert sum(Alert.objects.exclude(fingerprint="old").values_list("count", flat=True)) == THREADS


@pytest.mark.django_db(transaction=True)
def test_same_pagerduty_trigger_from_many_threads_is_one_alert(require_postgres, seeded):
    service = ServiceFactory()
    _i, key = configuration.integration_create(name="pd", service=service, kind="pagerduty", default_severity=Severity.objects.get(key="P2"),
                                          repeat_threshold=0)
    codes = _fire([("/v2/enqueue", pd_trigger(key, dedup_key="same-key"))] * THREADS)
    assert codes == [202] * THREADS
    assert Alert.objects.get().count == THREADS
    assert Incident.objects.count() == 1
