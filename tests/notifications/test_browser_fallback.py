"""In Debian's chromium: the incident page tells responders that a page failed for good, why,
and which channel was tried instead (the notifications panel and the timeline)."""

import os
from pathlib import Path

import pytest
from django.apps import apps

from delivery import outbox
from incidents.defaults import seed_defaults
from oncall.notifications import services
from tests.conftest import browser_login
from tests.incidents.factories import declare

from .factories import email_method, page_message, webhook_method

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("PORTAL_SHOTS", Path(__file__).resolve().parents[2] / "test-artifacts"))


@pytest.fixture(autouse=True)
def seeded(transactional_db):
    seed_defaults(apps)


def test_incident_page_shows_the_failed_page_and_the_fallback(browser_page, live_server, receiver, smtp_server, responder):
    incident = declare(by=responder, title="Search is down")
    receiver.behaviour["/gone"] = (410, 0)
    webhook_method(responder, f"{receiver.url}/gone")
    mail = email_method(responder, add_default_rule=False)
    services.notification_rule_create(user=responder, contact_method=mail, delay_minutes=5)
    for row in services.notify_user(user=responder, message=page_message(incident), dedup_key="esc:1"):
        for follow in outbox.deliver(row.pk):
            outbox.deliver(follow.pk)
    smtp_server.wait_for(1)

    page = browser_page
    browser_login(page, live_server, "responder")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(live_server.url + incident.get_absolute_url())
        panel = page.locator("section[aria-labelledby=notif-h]")
        assert "HTTP 410" in panel.inner_text() and "failed" in panel.inner_text()
        assert "trying Email" in page.inner_text("body")
        panel.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"incident-fallback-{width}.png"), full_page=True)
