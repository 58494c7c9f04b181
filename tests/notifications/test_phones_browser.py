"""In Debian's chromium: add a phone number on the person page, have a code texted (through
the real twilio client to the local stand-in for Twilio), type it, and see it verified."""

import pytest
from django.apps import apps

from delivery import outbox
from delivery.models import Delivery
from incidents.defaults import seed_defaults
from oncall.notifications import phones
from oncall.notifications.models import ContactMethod
from tests.conftest import browser_login, wait_for

from .test_phones import E164, twilio  # noqa: F401  (the fake Twilio fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def seeded(transactional_db):
    seed_defaults(apps)


def test_verify_a_phone_number_on_the_person_page(browser_page, live_server, twilio, responder):  # noqa: F811
    page = browser_page
    browser_login(page, live_server, "responder")
    page.goto(live_server.url + "/notifications/")
    page.click("summary:has-text('Add a contact method')")
    page.select_option("#id_kind", "sms")
    page.fill("#id_target", "+44 20 7946 0958")
    page.fill("#id_label", "Mobile")
    page.click("button:has-text('Add')")
    page.wait_for_selector("text=not verified")
    method = ContactMethod.objects.get(user=responder, kind="sms")
    assert method.target == E164

    page.click("button:has-text('Send verification code')")
    page.wait_for_selector("text=A code is being texted")
    row = wait_for(lambda: Delivery.objects.filter(destination_id=method.pk, kind=phones.VERIFY).first(), what="verify row")
    outbox.deliver(row.pk)  # (no worker here: the row is sent from the test)
    [sms] = twilio.sent("Messages")
    code = sms["Body"].split("code is ")[1][:6]

    page.fill(f"#code-{method.public_id}", code)
    page.click(f"#method-{method.public_id} button:has-text('Verify')")
    page.wait_for_selector(f"text={E164} is verified")
    assert "not verified" not in page.inner_text(f"#method-{method.public_id}")
    method.refresh_from_db()
    assert method.verified_at is not None
