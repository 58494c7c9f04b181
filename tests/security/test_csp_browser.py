"""The main pages in Debian's chromium under the Content-Security-Policy: no violation reported,
and their scripts still run (the acknowledge clock ticks, copy buttons appear, the status page
shows local times, the acknowledge link submits itself, Swagger UI renders)."""

from pathlib import Path

import pytest
from django.test import Client

from incidents.models import Incident
from oncall.notifications.ack import ack_url
from tests.conftest import browser_login
from tests.incidents.factories import declare
from tests.oncall.conftest import make_schedule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/sec11a-shots")

WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
});
"""


@pytest.fixture
def csp_page(browser_page):
    console = []
    browser_page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    browser_page.add_init_script(WATCH)
    browser_page.console_log = console
    return browser_page


def _visit(page, url, name, ready=None):
    response = page.goto(url)
    assert response.status < 400, f"{url} answered {response.status}"
    assert "content-security-policy" in response.headers, f"{url} has no CSP header"
    if ready:
        page.wait_for_selector(ready)
    page.wait_for_timeout(300)
    _shots(page, name)
    _assert_clean(page, url)


def _shots(page, name):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=False)
    page.set_viewport_size({"width": 1280, "height": 900})


def _assert_clean(page, url):
    violations = page.evaluate("window.__cspViolations || []")
    console = [line for line in page.console_log if "Content Security Policy" in line or "Content-Security-Policy" in line]
    assert violations == [] and console == [], f"CSP violations on {url}: {violations} {console}"


def test_staff_pages_run_their_scripts_without_csp_violations(csp_page, live_server, admin_user, responder):
    page = csp_page
    incident = declare(by=responder, title="Checkout errors")
    make_schedule("Primary on-call", [responder])
    _visit(page, live_server.url + "/accounts/login/", "login")
    browser_login(page, live_server, "boss")

    _visit(page, live_server.url + "/", "dashboard", ready="[data-due]")
    first = page.inner_text("[data-due]")
    page.wait_for_timeout(2200)
    assert page.inner_text("[data-due]") != first, "the acknowledge clock does not tick"
    _assert_clean(page, "/")

    _visit(page, live_server.url + incident.get_absolute_url(), "incident", ready="h1")
    page.click("summary:has-text('Resolve with a summary')")  # a disclosure opens
    assert page.is_visible("#resolve_summary")
    _assert_clean(page, incident.get_absolute_url())

    _visit(page, live_server.url + f"/incidents/{incident.number}/communications/", "communications", ready=".copy-btn")
    assert page.is_visible(".copy-btn"), "the copy buttons' script did not run"

    _visit(page, live_server.url + "/oncall/", "oncall")
    schedule_link = page.locator("a", has_text="Primary on-call").first
    schedule_link.click()
    page.wait_for_selector("svg.oc-timeline")
    _assert_clean(page, page.url)
    page.screenshot(path=str(SHOTS / "schedule.png"), full_page=False)

    for path in ("/incidents/", "/reports/metrics/", "/postmortems/", "/action-items/", "/integrations/", "/runbooks/", "/notifications/",
                 "/notifications/subscriptions/", "/oncall/policies/", "/oncall/schedules/", "/statuspage/", "/oncall/my-shifts/"):
        _visit(page, live_server.url + path, "page" + path.replace("/", "-").rstrip("-"))

    _visit(page, live_server.url + "/admin/", "admin", ready="#site-name")
    _visit(page, live_server.url + "/admin/incidents/incident/", "admin-incidents", ready="#result_list")
    _visit(page, live_server.url + f"/admin/incidents/incident/{incident.pk}/change/", "admin-incident", ready="form")

    _visit(page, live_server.url + "/api/docs/", "api-docs", ready=".swagger-ui .opblock")
    assert page.locator(".swagger-ui .opblock").count() > 10
    _visit(page, live_server.url + "/api/v1/incidents/", "api-browsable")


def test_public_pages_ack_link_and_lockout_page_run_without_csp_violations(csp_page, live_server, responder, responder2, settings):
    page = csp_page
    incident = declare(by=responder, title="Checkout errors")
    _visit(page, live_server.url + "/status/", "status", ready=".js-tz")
    assert "your time zone" in page.inner_text(".js-tz"), "the status page script did not run"
    _visit(page, live_server.url + "/status/subscribe/", "subscribe")
    _visit(page, live_server.url + "/status/history/", "status-history")

    page.goto(ack_url(incident_id=incident.pk, user_id=responder2.pk).replace("http://127.0.0.1:8000", live_server.url))
    page.wait_for_selector("#ack-result")
    _assert_clean(page, "ack link")
    _shots(page, "ack-done")
    assert Incident.objects.get(pk=incident.pk).acknowledged_by == responder2

    for i in range(settings.AXES_FAILURE_LIMIT):  # a lockout, from the browser's own address
        Client().post("/accounts/login/", {"username": "responder", "password": f"bad-{i}"}, REMOTE_ADDR="127.0.0.1")
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "responder")
    page.fill("#id_password", "pw-123456")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Sign-in locked")
    _assert_clean(page, "lockout page")
    _shots(page, "locked-out")
