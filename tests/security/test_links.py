"""Links that come from outside (alert payloads, people, settings) become hrefs only when they
are http(s); anything else (javascript:, data:, vbscript:, relative tricks) is shown as text."""

import re

import pytest
from django.test import Client

from incidents.integrations.models import Alert, Runbook
from incidents.links import safe_url
from incidents.models import Incident
from incidents.statuspage.models import FooterLink, PageSettings
from tests.integrations.conftest import client_json, make_integration, service  # noqa: F401
from tests.integrations.payloads import am_alert, am_payload, pd_trigger
from tests.statuspage.conftest import _own_cache_namespace  # noqa: F401 - autouse: a cache key prefix per test (never clear Redis)

pytestmark = pytest.mark.django_db

EVIL = [
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "\x01javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "//evil.example.com/x",
    "/\\evil.example.com",
    "ftp://files.example.com/x",
    "https:alert(1)",
    "",
    None,
    42,
]


@pytest.mark.parametrize("url", EVIL)
def test_safe_url_refuses_everything_but_absolute_http(url):
    assert safe_url(url) == ""


@pytest.mark.parametrize("url", ["https://grafana.example.com/d/abc?from=now-1h", "http://prometheus:9090/graph?g0.expr=up", "HTTPS://EXAMPLE.COM/"])
def test_safe_url_keeps_http_and_https(url):
    assert safe_url(url) == url


def _hrefs(html):
    return re.findall(r'(?:href|src)="([^"]*)"', html)


def _assert_no_script_links(html):
    bad = [h for h in _hrefs(html) if not h.startswith(("/", "#", "http://", "https://", "mailto:", "webcal://", "?"))]
    assert bad == []
    assert "javascript:" not in " ".join(_hrefs(html)).lower()


def test_alert_links_from_every_sender_are_not_rendered_as_script_links(make_integration, client_json, responder):  # noqa: F811
    _pd, pd_key = make_integration("pagerduty")
    event = pd_trigger(pd_key, dedup_key="x1", links=[{"href": "javascript:alert(1)", "text": "Click me"}],
                       images=[{"src": "javascript:alert(2)", "href": "data:text/html,hi", "alt": "Graph"}], client_url="JAVASCRIPT:alert(3)")
    assert client_json("/v2/enqueue", event).status_code == 202
    incident = Incident.objects.get()
    _am, am_key = make_integration("alertmanager")
    alert = am_alert(fingerprint="ff00")
    alert["generatorURL"] = "javascript:alert(4)"
    alert["annotations"].update(runbook_url="javascript:alert(5)", dashboard_url="vbscript:x")
    assert client_json(f"/api/v1/integrations/{am_key}/alertmanager/", am_payload(alert)).status_code == 200
    Alert.objects.exclude(incident=incident).update(incident=incident)
    assert any("javascript:" in link["href"].lower() for a in Alert.objects.all() for link in a.links)
    client = Client()
    client.force_login(responder)
    html = client.get(incident.get_absolute_url()).content.decode()
    assert "Click me" in html  # the text stays, without a link
    _assert_no_script_links(html)


def test_runbook_url_and_status_page_links_are_checked(responder, client):
    runbook = Runbook.objects.create(identifier="RB-SEC-1", title="DB down", steps="Restart.", url="javascript:alert(1)")
    client.force_login(responder)
    _assert_no_script_links(client.get(runbook.get_absolute_url()).content.decode())
    page = PageSettings.objects.order_by("pk").first() or PageSettings.objects.create(name="Status")
    PageSettings.objects.filter(pk=page.pk).update(support_url="javascript:alert(1)", logo_url="javascript:alert(2)")
    FooterLink.objects.create(page=page, label="Terms", url="javascript:alert(3)")
    html = Client().get("/status/").content.decode()
    assert "Terms" in html
    _assert_no_script_links(html)
