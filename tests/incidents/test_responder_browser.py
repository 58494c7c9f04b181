"""At 3 a.m. on a phone (390 x 844) and on a laptop (1366 x 900), in Debian's chromium: from the
acknowledge link in the page to a resolved incident in at most three taps and no typed field;
the first screen of the incident page holds what it is, who has it and the primary actions."""

import json
from pathlib import Path
from urllib.request import Request, urlopen

import pytest
from django.apps import apps
from django.urls import reverse

from incidents.defaults import seed_defaults
from incidents.integrations.services import configuration
from incidents.models import Incident, Severity
from oncall.notifications.ack import ack_token
from tests.conftest import browser_login
from tests.incidents.factories import ServiceFactory, declare
from tests.integrations.payloads import am_payload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE, LAPTOP = {"width": 390, "height": 844}, {"width": 1366, "height": 900}


@pytest.fixture(autouse=True)
def seeded(transactional_db):
    seed_defaults(apps)


def _shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _above_the_fold(page, selector, height):
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box["y"] >= 0 and box["y"] + box["height"] <= height


def test_from_the_ack_link_to_resolved_in_three_taps_on_a_phone(browser_page, live_server, responder, responder2):
    page = browser_page
    page.set_viewport_size(PHONE)
    incident = declare(by=responder, title="Checkout latency above 3 s", commander=responder)
    browser_login(page, live_server, "responder2")  # signed in on the phone already
    taps = 0
    page.goto(live_server.url + reverse("notifications:ack", kwargs={"token": ack_token(incident_id=incident.pk, user_id=responder2.pk)}))
    taps += 1  # the link in the page (the form submits itself)
    page.wait_for_selector("#ack-result")
    page.click("text=Open the incident")
    taps += 1
    page.wait_for_selector("#incident-head")
    for selector in ("#incident-head h1", "#incident-head .badge.sev", "#incident-head .clock", "#incident-head .inc-who",
                     "#incident-head button:has-text('Resolve')", "#incident-head a:has-text('Post update')",
                     "#incident-head a:has-text('Page someone')"):
        assert _above_the_fold(page, selector, PHONE["height"]), f"{selector} needs scrolling on a phone"
    page.screenshot(path=str(ARTIFACTS / "incident-phone-first-screen.png"))
    page.click("#incident-head button:has-text('Resolve')")
    taps += 1
    page.wait_for_selector(f"text={incident.number} resolved")
    assert taps <= 3
    incident.refresh_from_db()
    assert incident.status == "resolved" and incident.acknowledged_by == responder2
    assert page.locator("#incident-head .badge.status", has_text="Resolved").count() == 1  # the panel shows the new state
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _shot(page, "incident-phone-resolved")


def test_pages_at_phone_and_laptop_sizes(browser_page, live_server, responder, viewer):
    page = browser_page
    service = ServiceFactory(name="Database", slug="database")
    _integration, key = configuration.integration_create(name="Prometheus", service=service, kind="alertmanager",
                                                        default_severity=Severity.objects.get(key="P2"))
    request = Request(f"{live_server.url}/api/v1/integrations/{key}/alertmanager/", data=json.dumps(am_payload()).encode(),
                      headers={"Content-Type": "application/json"}, method="POST")
    assert urlopen(request, timeout=10).status == 200
    incident = Incident.objects.get()
    browser_login(page, live_server, "responder")
    for size_name, size in (("phone", PHONE), ("laptop", LAPTOP)):
        page.set_viewport_size(size)
        page.goto(live_server.url + incident.get_absolute_url())
        alerts = page.locator("#alerts")
        assert "Database is down" in alerts.inner_text() and "instance=db-1:9187" in alerts.inner_text()
        assert page.locator("text=No summary yet").count() == 0
        assert alerts.bounding_box()["y"] < page.locator("#post-update").bounding_box()["y"]  # what opened it comes first
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
        page.screenshot(path=str(ARTIFACTS / f"incident-alert-{size_name}-first-screen.png"))
        _shot(page, f"incident-alert-{size_name}")
        page.goto(live_server.url + "/incidents/new/")
        assert page.locator("input[name=severity]:checked").count() == 0
        _shot(page, f"declare-{size_name}")
    page.context.clear_cookies()
    browser_login(page, live_server, "viewer")
    for size_name, size in (("phone", PHONE), ("laptop", LAPTOP)):
        page.set_viewport_size(size)
        response = page.goto(live_server.url + "/incidents/new/")
        assert response.status == 403
        assert "Can add incident" in page.inner_text("main")
        _shot(page, f"403-{size_name}")
