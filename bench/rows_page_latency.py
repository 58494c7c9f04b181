"""page_latency_p50_s / _p99_s: from an Alertmanager alert accepted (the HTTP 2xx answer) to the
first notification delivered to a local HTTP receiver.

A fresh database; a service whose escalation policy pages one person at level 1 (no delay),
that person's webhook contact method pointing at a local threaded receiver, and an
Alertmanager integration on the service. Gunicorn serves the bench settings on a free port;
real Celery workers (the on-call bench's, subprocesses with beat) consume a queue of this run's
own on Redis. N_ALERTS firing alerts with distinct group keys each open an incident; they are
posted one after another, PACE_S apart. Every page carries the alert's token in its title, so
each receiver arrival is matched to its alert.

The contact method's rate limit is raised to 1,000 per window: the default (5 per 10 minutes)
would rightly fold 50 pages to one person into a digest, which is not what this row measures."""

import http.client
import json
import os
import re
import sys
import time

from django.db import connections

from bench.common import Receiver, Row, free_port, percentile
from bench.db import fresh_database
from bench.rows_ingest import _start_gunicorn, _stop
from bench.rows_oncall import _start_worker, use_queues

N_ALERTS = 50
PACE_S = 0.2
TOKEN = re.compile(rb"page-bench-(\d+)")


def _body(i: int) -> bytes:
    alert = {
        "status": "firing",
        "labels": {"alertname": "PageBench", "instance": f"page-{i}:9100", "severity": "critical"},
        "annotations": {"summary": f"page-bench-{i} is down"},
        "startsAt": "2026-01-01T00:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": f"{0xbe000 + i:016x}",
    }
    return json.dumps({
        "version": "4", "groupKey": f'{{}}:{{instance="page-{i}:9100"}}', "status": "firing", "receiver": "portal",
        "groupLabels": {"instance": f"page-{i}:9100"}, "commonLabels": alert["labels"], "commonAnnotations": alert["annotations"],
        "externalURL": "http://alertmanager:9093", "truncatedAlerts": 0, "alerts": [alert],
    }).encode()


def page_latency(args) -> list[Row]:
    from django.contrib.auth import get_user_model

    from incidents.integrations.services import configuration
    from incidents.models import Incident, Service, Severity
    from oncall.models import Condition, EscalationLevel, EscalationPolicy, EscalationTarget, ServicePolicy, TargetKind
    from oncall.notifications.services import contact_method_create

    fresh_database()
    queue = f"bench-page-{os.getpid()}"
    use_queues(queue)  # gunicorn publishes here (config/settings/bench.py)
    receiver = Receiver()
    user = get_user_model().objects.create(username="pager", first_name="Pat", last_name="Pager")
    contact_method_create(user=user, kind="webhook", target=f"{receiver.url}/hook", rate_limit_count=1000)
    policy = EscalationPolicy.objects.create(name="Page Pat")
    level = EscalationLevel.objects.create(policy=policy, position=0, delay_seconds=0, condition=Condition.NOT_ACKNOWLEDGED)
    EscalationTarget.objects.create(level=level, kind=TargetKind.USER, user=user)
    service = Service.objects.create(name="Paging bench", slug="paging-bench")
    ServicePolicy.objects.create(service=service, policy=policy)
    _integration, key = configuration.integration_create(
        name="Bench Alertmanager", service=service, kind="alertmanager", default_severity=Severity.objects.get(key="P1"),
        rate_limit_per_minute=0,
    )
    connections.close_all()
    path = f"/api/v1/integrations/{key}/alertmanager/"
    workers = [_start_worker(queue, i) for i in range(int(os.environ.get("ONCALL_BENCH_WORKERS", "2")))]
    server = None
    accepted: dict[int, float] = {}
    try:
        port = free_port()
        server = _start_gunicorn(port)
        time.sleep(4)  # worker start-up
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for i in range(N_ALERTS):
            conn.request("POST", path, body=_body(i), headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            if 200 <= response.status < 300:
                accepted[i] = time.monotonic()
            else:
                print(f"  alert {i}: HTTP {response.status}", file=sys.stderr)
            time.sleep(PACE_S)
        conn.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_matched(receiver)) < len(accepted):
            time.sleep(0.1)
    finally:
        if server is not None:
            _stop(server)
        for worker in workers:
            _stop(worker)
        receiver.close()
    first = _matched(receiver)
    latencies = [first[i] - accepted[i] for i in accepted if i in first]
    missing = N_ALERTS - len(latencies)
    print(f"  {len(accepted)}/{N_ALERTS} alerts accepted, {Incident.objects.count()} incidents, receiver got "
          f"{receiver.count} POSTs, {missing} alerts without a page; max {max(latencies, default=float('nan')):.3f} s",
          file=sys.stderr)
    latencies += [float("inf")] * missing
    return [Row("page_latency_p50_s", percentile(latencies, 50), "s", "informational"),
            Row("page_latency_p99_s", percentile(latencies, 99), "s", "< 1")]


def _matched(receiver: Receiver) -> dict[int, float]:
    """Alert index -> arrival time of its first page."""
    first: dict[int, float] = {}
    for arrived, body in list(receiver.arrivals):
        match = TOKEN.search(body)
        if match:
            i = int(match.group(1))
            first[i] = min(first.get(i, arrived), arrived)
    return first


ROWS = {"page_latency": page_latency}
