"""status_page_vs_trivial, summary_json_vs_trivial: requests per second of /status/ and of
/status/api/v2/summary.json over a trivial Django view, on the same gunicorn server, in the same
run, with 50 concurrent keep-alive clients. Rounds alternate between the three paths so a noisy
neighbour hurts them alike."""

import asyncio
import os
import random
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.utils import timezone

from bench.common import Row, free_port
from bench.db import fresh_database
from incidents.models import Incident, Service, Severity
from incidents.services import incident_declare
from incidents.statuspage import services
from incidents.statuspage.models import (
    ComponentGroup,
    ComponentImpact,
    ComponentStatusPeriod,
    PageSettings,
    PublicIncident,
    StatusComponent,
)

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = 50
ROUND_SECONDS = float(os.environ.get("BENCH_STATUSPAGE_ROUND_SECONDS", "4"))
ROUNDS = int(os.environ.get("BENCH_STATUSPAGE_ROUNDS", "3"))
PATHS = {"trivial": "/bench/trivial/", "status": "/status/", "summary": "/status/api/v2/summary.json"}


def seed() -> None:
    """A believable page: 12 components in 3 groups, 60 past incidents over 90 days, one open, a window."""
    rng = random.Random(7)
    PageSettings.objects.get_or_create(pk=1, defaults={"name": "Bench status"})
    groups = [ComponentGroup.objects.create(name=f"Group {i}", position=i) for i in range(3)]
    components = []
    for i in range(12):
        service = Service.objects.create(name=f"Bench service {i}", slug=f"bench-{i}")
        components.append(services.component_save(component=StatusComponent(
            service=service, name=f"Component {i}", description="Bench component", group=groups[i % 4] if i % 4 < 3 else None,
            position=i, start_date=timezone.localdate() - timedelta(days=365),
        )))
    sev = Severity.objects.get(key="P2")
    now = timezone.now()
    for i in range(60):
        inc = incident_declare(title=f"Past incident {i}", severity=sev)
        comp = rng.choice(components)
        services.incident_publish_update(incident=inc, body=f"Update on incident {i}.", by=None, components={comp: "partial_outage"})
        services.incident_publish_update(incident=inc, body="Resolved.", by=None, status="resolved")
        start = now - timedelta(days=rng.randint(1, 89), hours=rng.randint(0, 20))
        end = start + timedelta(minutes=rng.randint(10, 240))
        Incident.objects.filter(pk=inc.pk).update(started_at=start, declared_at=start, resolved_at=end)
        PublicIncident.objects.filter(pk=inc.pk).update(published_at=start)
        ComponentStatusPeriod.objects.filter(component=comp, started_at__gte=now - timedelta(minutes=5)).delete()
        ComponentStatusPeriod.objects.create(component=comp, status="partial_outage", started_at=start, ended_at=end)
    live = incident_declare(title="Elevated error rates", severity=sev)
    services.incident_publish_update(incident=live, body="Investigating.", by=None, components={components[0]: "major_outage"})
    services.maintenance_save(title="Upgrade", services=[components[1].service], scheduled_for=now + timedelta(days=1),
                              scheduled_until=now + timedelta(days=1, hours=1))
    assert ComponentImpact.objects.count() == 61


async def _client(port: int, path: str, stop_at: float, counts: list[int]) -> None:
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\nConnection: keep-alive\r\n\r\n".encode()
    reader = writer = None
    while time.monotonic() < stop_at:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            await reader.readexactly(int(headers.get("content-length", "0")))
            if status == 200:
                counts[0] += 1
            else:
                counts[1] += 1
            if headers.get("connection", "").lower() == "close":
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError):
            counts[1] += 1
            if writer is not None:
                writer.close()
            writer = None
            await asyncio.sleep(0.01)
    if writer is not None:
        writer.close()


async def _round(port: int, path: str, seconds: float) -> tuple[float, int]:
    counts = [0, 0]
    started = time.monotonic()
    await asyncio.gather(*(_client(port, path, started + seconds, counts) for _ in range(CLIENTS)))
    return counts[0] / (time.monotonic() - started), counts[1]


def _start_server(port: int) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.bench"}
    workers = str(max(2, (os.cpu_count() or 2)))
    cmd = [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", workers, "-k", "gthread",
           "--threads", "8", "--keep-alive", "30", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"GET /bench/trivial/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if b"200 OK" in s.recv(200):
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"gunicorn did not start: {proc.stderr.read().decode()[-2000:]}")


_done: list[Row] = []


def statuspage_rows(args) -> list[Row]:
    """Both rows come from one run (same server, same rounds); asked for twice, it runs once."""
    if _done:
        return []
    _done.extend(_measure())
    return list(_done)


def _measure() -> list[Row]:
    assert settings.BENCH_TRIVIAL_VIEW, "run with config.settings.bench"
    fresh_database()
    seed()
    connections.close_all()
    port = free_port()
    proc = _start_server(port)
    try:
        rates = {name: [] for name in PATHS}
        errors = 0

        async def run():
            nonlocal errors
            for path in PATHS.values():  # warm up: caches filled, workers imported
                await _round(port, path, 1.0)
            for _ in range(ROUNDS):
                for name, path in PATHS.items():
                    rate, failed = await _round(port, path, ROUND_SECONDS)
                    rates[name].append(rate)
                    errors += failed

        asyncio.run(run())
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    total = {name: sum(values) / len(values) for name, values in rates.items()}
    print(f"  req/s: trivial {total['trivial']:.0f}, /status/ {total['status']:.0f}, summary.json {total['summary']:.0f}; "
          f"non-200 {errors}", file=sys.stderr)
    return [
        Row("status_page_vs_trivial", round(total["status"] / total["trivial"], 3), "ratio", ">= 0.8"),
        Row("summary_json_vs_trivial", round(total["summary"] / total["trivial"], 3), "ratio", ">= 0.8"),
    ]


ROWS = {"status_page_vs_trivial": statuspage_rows, "summary_json_vs_trivial": statuspage_rows}
