"""In Debian's chromium: the emailed acknowledge link is one click for a person, and the
contact-method page's "send test notification" reaches a real receiver through a real worker."""

from pathlib import Path

import pytest
from django.apps import apps
from django.urls import reverse

from delivery.models import Delivery
from incidents.defaults import seed_defaults
from oncall.notifications.ack import ack_token
from oncall.notifications.models import ContactMethod
from tests.conftest import browser_login
from tests.incidents.factories import declare

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(autouse=True)
def seeded(transactional_db):
    seed_defaults(apps)


def test_ack_link_is_one_click_in_a_real_browser(browser_page, live_server, responder, responder2):
    incident = declare(by=responder, title="Queue backlog growing")
    path = reverse("notifications:ack", kwargs={"token": ack_token(incident_id=incident.pk, user_id=responder2.pk)})
    browser_page.goto(live_server.url + path)  # the click in the email; no sign-in
    browser_page.wait_for_selector("#ack-result")
    assert "acknowledged as Responder2" in browser_page.inner_text("#ack-result")
    ARTIFACTS.mkdir(exist_ok=True)
    browser_page.screenshot(path=str(ARTIFACTS / "ack-link.png"), full_page=True)
    incident.refresh_from_db()
    assert incident.acknowledged_by == responder2


@pytest.mark.worker
def test_add_contact_method_and_send_test_in_browser(browser_page, live_server, celery_worker, receiver, responder):
    page = browser_page
    browser_login(page, live_server, "responder")
    page.goto(live_server.url + "/notifications/")
    page.click("summary:has-text('Add a contact method')")
    page.select_option("#id_kind", "slack")
    page.fill("#id_target", f"{receiver.url}/slack")
    page.fill("#id_label", "Team Slack")
    page.click("button:has-text('Add')")
    page.wait_for_selector("text=Added Slack incoming webhook")
    method = ContactMethod.objects.get(user=responder)
    page.click("button:has-text('Send test notification')")
    page.wait_for_selector("text=Test notification queued")
    [req] = receiver.wait_for(1, "/slack", timeout=20)
    assert req.json()["blocks"][0]["text"]["text"] == "Test notification from the incident portal"
    page.reload()
    page.wait_for_selector(".notif-sent")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "contact-methods.png"), full_page=True)
    assert Delivery.objects.get(destination_id=method.pk).status == "sent"
