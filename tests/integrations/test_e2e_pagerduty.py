"""The official `pagerduty` package's Events API v2 client, pointed at the live test server,
works unchanged: trigger, acknowledge and resolve by dedup key.

The client only speaks https://, so the live server sits behind a small TLS-terminating
front (as it would behind a proxy in production), with a throwaway self-signed certificate
the client is told to trust."""

import select
import socket
import ssl
import subprocess
import threading
from urllib.parse import urlsplit

import pagerduty
import pytest

from incidents.integrations.models import Alert, AlertStatus
from incidents.integrations.services import configuration
from incidents.models import Incident, Severity
from tests.incidents.factories import ServiceFactory


class TlsFront:
    """Accepts TLS on 127.0.0.1 and pipes the plain bytes to the live server."""

    def __init__(self, upstream_port: int, certfile, keyfile):
        self.upstream_port = upstream_port
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(certfile, keyfile)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._pipe, args=(conn,), daemon=True).start()

    def _pipe(self, conn):
        try:
            conn.settimeout(10)
            tls = self.context.wrap_socket(conn, server_side=True)
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
        except (OSError, ssl.SSLError):
            conn.close()
            return
        try:
            while True:
                ready = [tls] if tls.pending() else select.select([tls, upstream], [], [], 10)[0]
                if not ready:
                    return
                for source in ready:
                    data = source.recv(65536)
                    if not data:
                        return
                    (upstream if source is tls else tls).sendall(data)
        except (OSError, ssl.SSLError):
            return
        finally:
            tls.close()
            upstream.close()

    def close(self):
        self.stopping.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def https_live_server(live_server, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    front = TlsFront(urlsplit(live_server.url).port, cert, key)
    try:
        yield f"https://127.0.0.1:{front.port}", ssl.create_default_context(cafile=str(cert))
    finally:
        front.close()


@pytest.fixture
def pd_client(https_live_server, seeded):
    url, trust = https_live_server
    service = ServiceFactory(name="Payments", slug="payments")
    integration, key = configuration.integration_create(name="Datadog", service=service, kind="pagerduty",
                                                   default_severity=Severity.objects.get(key="P2"))
    return pagerduty.EventsApiV2Client(key, base_url=url, verify=trust), integration


def test_pagerduty_client_triggers_acknowledges_and_resolves(pd_client):
    client, integration = pd_client
    dedup_key = client.trigger("Checkout error rate above 5%", "checkout-api-1", severity="error",
                               custom_details={"error_rate": "7.2%"}, links=[{"href": "https://app.datadoghq.com/monitors/1", "text": "Monitor"}])
    assert dedup_key
    alert = Alert.objects.get(integration=integration, fingerprint=dedup_key)
    incident = alert.incident
    assert incident.severity.key == "P2" and incident.status == "investigating"
    assert {"href": "https://app.datadoghq.com/monitors/1", "text": "Monitor"} in alert.links

    assert client.trigger("Checkout error rate above 5%", "checkout-api-1", dedup_key=dedup_key, severity="error") == dedup_key
    assert Alert.objects.get(pk=alert.pk).count == 2

    assert client.acknowledge(dedup_key) == dedup_key
    alert.refresh_from_db()
    incident.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED and incident.acknowledged_at is not None

    assert client.resolve(dedup_key) == dedup_key
    alert.refresh_from_db()
    incident.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED and incident.status == "resolved"
    assert Incident.objects.count() == 1

    # a key it never sent, and the resolved key again: accepted and dropped, as PagerDuty does
    assert client.resolve("never-seen") == "never-seen"
    assert client.acknowledge(dedup_key) == dedup_key
    assert Alert.objects.count() == 1


def test_pagerduty_client_with_a_wrong_key_fails(https_live_server, seeded):
    url, trust = https_live_server
    client = pagerduty.EventsApiV2Client("0" * 32, base_url=url, verify=trust)
    with pytest.raises(pagerduty.Error):
        client.trigger("x", "y")
