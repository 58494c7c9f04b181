"""metrics_page_100k_s: the metrics page (the real view, through Django's test client) over a
year holding 100,000 incidents, the whole year selected. Median of several requests."""

import os
import statistics
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.common import Row
from bench.db import fresh_database
from bench.rows_incidents import seed_incidents

RUNS = 7


def metrics_page_100k(args) -> list[Row]:
    fresh_database()
    seed_incidents()
    user = get_user_model().objects.create_superuser("bench-metrics", "m@example.com", "x")
    client = Client()
    client.force_login(user)
    today = timezone.localdate()
    params = {"since": (today - timedelta(days=366)).isoformat(), "until": today.isoformat()}
    response = client.get("/reports/metrics/", params)  # warm up
    assert response.status_code == 200, response.content[:300]
    assert b'id="chart-mttr"' in response.content
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/reports/metrics/", params)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200
    baseline = []
    with connection.cursor() as cursor:  # context for a noisy machine: one plain scan of the same table
        for _ in range(RUNS):
            started = time.perf_counter()
            cursor.execute("SELECT count(*) FROM incidents_incident")
            cursor.fetchall()
            baseline.append(time.perf_counter() - started)
    print(f"  metrics page: {len(ctx.captured_queries)} queries; runs {', '.join(f'{t:.3f}' for t in timings)} s; "
          f"count(*) of the incidents for comparison: median {statistics.median(baseline):.3f} s; load average {os.getloadavg()[0]:.1f}")
    return [Row("metrics_page_100k_s", statistics.median(timings), "s", "< 1 s")]


ROWS = {"metrics_page_100k_s": metrics_page_100k}
