"""ingest_*: 10,000 Alertmanager alerts over 100 fingerprints from concurrent clients against
gunicorn, on the configured database.

Gunicorn runs the bench settings on a free 127.0.0.1 port (gthread workers, persistent
database connections). Clients are a few processes of threads, each keeping one HTTP/1.1
connection alive. Every request carries one alert; alert i has fingerprint i % 100 and a
group key of its own, so exactly 100 incidents must open and the alerts' delivery counts
must add up to 10,000 (none lost)."""

import http.client
import json
import multiprocessing
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.db.models import Sum

from bench.common import Row, free_port, percentile
from bench.db import fresh_database

ROOT = Path(__file__).resolve().parent.parent
TOTAL = 10_000
FINGERPRINTS = 100
PROCESSES = 2
THREADS = 8
WORKERS = 2 * (os.cpu_count() or 1) + 1  # gunicorn's own advice
WORKER_THREADS = 4


def _body(i: int) -> bytes:
    n = i % FINGERPRINTS
    alert = {
        "status": "firing",
        "labels": {"alertname": "BenchAlert", "instance": f"host-{n}:9100", "severity": "critical"},
        "annotations": {"summary": f"Bench alert on host-{n}"},
        "startsAt": "2026-01-01T00:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": f"http://prometheus:9090/graph?g0.expr=up%7Binstance%3D%22host-{n}%22%7D",
        "fingerprint": f"{n:016x}",
    }
    return json.dumps({
        "version": "4", "groupKey": f'{{}}:{{instance="host-{n}:9100"}}', "status": "firing", "receiver": "portal",
        "groupLabels": {"instance": f"host-{n}:9100"}, "commonLabels": alert["labels"], "commonAnnotations": alert["annotations"],
        "externalURL": "http://alertmanager:9093", "truncatedAlerts": 0, "alerts": [alert],
    }).encode()


def _client(args) -> list[tuple[int, float]]:
    """One client process: THREADS threads, each on its own keep-alive connection."""
    import threading

    port, path, indices = args
    results: list[tuple[int, float]] = []
    lock = threading.Lock()

    def run(mine):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        local = []
        for i in mine:
            body = _body(i)
            started = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status = 0
            local.append((status, time.perf_counter() - started))
        conn.close()
        with lock:
            results.extend(local)

    threads = [threading.Thread(target=run, args=(indices[t::THREADS],)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _start_gunicorn(port: int) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.bench", "CONN_MAX_AGE": "60"}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    proc = subprocess.Popen(
        [gunicorn, "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread",
         "--workers", str(WORKERS), "--threads", str(WORKER_THREADS), "--keep-alive", "30", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    _stop(proc)
    raise RuntimeError("gunicorn did not start")


def _stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def ingest(args) -> list[Row]:
    from incidents.integrations.models import Alert
    from incidents.integrations.services.configuration import integration_create
    from incidents.models import Incident, Service, Severity

    fresh_database()
    service = Service.objects.create(name="Bench", slug="bench")
    _integration, key = integration_create(
        name="Bench Alertmanager", service=service, kind="alertmanager", default_severity=Severity.objects.get(key="P2"),
        rate_limit_per_minute=0,
    )
    connections.close_all()
    port = free_port()
    path = f"/api/v1/integrations/{key}/alertmanager/"
    base_cpu = _children_cpu()
    proc = _start_gunicorn(port)
    try:
        shares = [(port, path, list(range(p, TOTAL, PROCESSES))) for p in range(PROCESSES)]
        started = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(PROCESSES) as pool:
            results = [r for part in pool.map(_client, shares) for r in part]
        elapsed = time.perf_counter() - started
        clients_cpu = _children_cpu() - base_cpu
    finally:
        _stop(proc)
    server_cpu = _children_cpu() - base_cpu - clients_cpu  # gunicorn's master and workers (reaped by it)
    ok = sum(1 for status, _ in results if status == 200)
    latencies = [latency for _, latency in results]
    delivered = Alert.objects.aggregate(n=Sum("count"))["n"] or 0
    incidents = Incident.objects.count()
    print(f"  gunicorn used {server_cpu:.1f} CPU-s ({server_cpu / TOTAL * 1000:.2f} ms per alert), the clients "
          f"{clients_cpu:.1f} CPU-s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", file=sys.stderr)
    print(f"  {ok}/{TOTAL} answered 200 in {elapsed:.1f} s on {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}; "
          f"{Alert.objects.count()} alerts, {delivered} deliveries recorded, {incidents} incidents", file=sys.stderr)
    return [
        Row("ingest_alerts_per_s", ok / elapsed, "alerts/s", ">= 500"),
        Row("ingest_p99_s", percentile(latencies, 99), "s", "(reported)"),
        Row("ingest_lost", max(0, TOTAL - delivered), "alerts", "0"),
        Row("ingest_incidents", incidents, "incidents", "exactly 100"),
    ]


ROWS = {"ingest": ingest}
