"""End to end with Debian's prometheus-alertmanager: amtool fires alerts, Alertmanager notifies
the live test server, the portal opens one incident, groups the second alert into it and
resolves it when the alerts end."""

import os
import socket
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from incidents.integrations.models import Alert, AlertStatus
from incidents.integrations.services import configuration
from incidents.models import Incident, Severity, TimelineEvent
from tests.conftest import free_port, wait_for
from tests.incidents.factories import ServiceFactory

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
AMTOOL = "/usr/bin/amtool"




@pytest.fixture
def alertmanager_binaries():
    if not (os.path.exists(ALERTMANAGER) and os.path.exists(AMTOOL)):
        if os.environ.get("CI"):
            pytest.fail("prometheus-alertmanager is not installed; .ci/run installs it")
        pytest.skip("Debian's prometheus-alertmanager is not installed")


@pytest.fixture
def alertmanager(alertmanager_binaries, live_server, tmp_path, seeded):
    """A real Alertmanager sending to an Alertmanager integration on the live server."""
    service = ServiceFactory(name="Database", slug="database")
    integration, key = configuration.integration_create(
        name="Prometheus", service=service, kind="alertmanager", default_severity=Severity.objects.get(key="P2"),
    )
    port = free_port()
    url = live_server.url.replace("localhost", "127.0.0.1") + f"/api/v1/integrations/{key}/alertmanager/"
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        "global:\n  resolve_timeout: 5m\n"
        "route:\n  receiver: portal\n  group_by: ['alertname']\n"
        "  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n"
        "receivers:\n  - name: portal\n    webhook_configs:\n"
        f"      - url: '{url}'\n        send_resolved: true\n"
    )
    log = (tmp_path / "alertmanager.log").open("w")
    proc = subprocess.Popen(
        [ALERTMANAGER, f"--config.file={config}", f"--storage.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=debug"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    am_url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: subprocess.run([AMTOOL, "check-config", str(config)], capture_output=True).returncode == 0 and _up(port), 20, "alertmanager")
        yield {"url": am_url, "integration": integration, "log": tmp_path / "alertmanager.log"}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _up(port) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _amtool(am_url, *labels, start=None, end=None):
    args = [AMTOOL, f"--alertmanager.url={am_url}", "alert", "add", *labels,
            "--annotation=summary=Database is down", "--annotation=description=PostgreSQL is not responding",
            "--generator-url=http://prometheus.example:9090/graph?g0.expr=up%3D%3D0"]
    if start:
        args.append(f"--start={start:%Y-%m-%dT%H:%M:%SZ}")
    if end:
        args.append(f"--end={end:%Y-%m-%dT%H:%M:%SZ}")
    result = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def test_alertmanager_opens_groups_and_resolves_one_incident(alertmanager):
    am_url = alertmanager["url"]
    start = datetime.now(UTC) - timedelta(seconds=5)
    later = datetime.now(UTC) + timedelta(minutes=10)
    _amtool(am_url, "alertname=DatabaseDown", "instance=db-1", "severity=critical", start=start, end=later)
    incident = wait_for(lambda: Incident.objects.first(), 30, "the incident to open")
    assert incident.detection_source == "alert" and incident.severity.key == "P0"  # critical: the top of the scheme

    _amtool(am_url, "alertname=DatabaseDown", "instance=db-2", "severity=critical", start=start, end=later)
    wait_for(lambda: Alert.objects.filter(incident=incident).count() == 2, 30, "the second alert to join")
    assert Incident.objects.count() == 1
    alert = Alert.objects.get(labels__instance="db-1")
    assert alert.links[0]["href"].startswith("http://prometheus.example:9090/graph")
    assert alert.payload["receiver"] == "portal" and alert.payload["alert"]["fingerprint"] == alert.fingerprint

    ended = datetime.now(UTC) - timedelta(seconds=1)
    _amtool(am_url, "alertname=DatabaseDown", "instance=db-1", "severity=critical", start=start, end=ended)
    wait_for(lambda: Alert.objects.filter(labels__instance="db-1", status=AlertStatus.RESOLVED).exists(), 30, "db-1 to resolve")
    incident.refresh_from_db()
    assert incident.status == "investigating"  # db-2 still fires
    _amtool(am_url, "alertname=DatabaseDown", "instance=db-2", "severity=critical", start=start, end=ended)
    wait_for(lambda: Incident.objects.get(pk=incident.pk).status == "resolved", 30, "the incident to auto-resolve")
    assert Incident.objects.count() == 1 and Alert.objects.count() == 2
    assert TimelineEvent.objects.filter(incident=incident, kind="declared").count() == 1
    assert TimelineEvent.objects.filter(incident=incident, kind="alert.firing").count() == 2
    assert TimelineEvent.objects.filter(incident=incident, kind="alert.resolved").count() == 2
