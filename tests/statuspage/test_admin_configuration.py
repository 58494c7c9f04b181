"""The status page's configuration written from the admin goes through its services
(statuspage.configuration, statuspage.subscriptions): the same checks, an audit entry naming the
admin, and the public page's cache refreshed after commit."""

import json

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry

from incidents.statuspage import services
from incidents.statuspage.models import ComponentGroup, FooterLink, PublicIncident, StatusComponent, Subscriber
from tests.incidents.factories import declare

from .conftest import subscriber_messages

pytestmark = pytest.mark.django_db

API = "/status/api/v2/"


def _entry(obj, user, flag):
    return LogEntry.objects.filter(object_id=str(obj.pk), user=user, action_flag=flag).order_by("-action_time").first()


def _page_form(page, **overrides):
    data = {"name": page.name, "url": page.url, "time_zone": page.time_zone, "logo_url": page.logo_url,
            "brand_colour": page.brand_colour, "header_background": page.header_background,
            "header_text_colour": page.header_text_colour, "support_email": page.support_email, "support_url": page.support_url,
            "about": page.about, "footer_links-TOTAL_FORMS": 0, "footer_links-INITIAL_FORMS": 0}
    data.update(overrides)
    return data


def test_page_settings_changed_in_the_admin_are_checked_audited_and_public_at_once(
        client, admin_user, page, django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    url = f"/admin/statuspage/pagesettings/{page.pk}/change/"
    assert json.loads(client.get(API + "summary.json").content)["page"]["name"] == "Acme status"  # now cached

    refused = client.post(url, _page_form(page, name="Renamed", support_url="ftp://files.acme.test/help"))
    assert refused.status_code == 200 and "Only an absolute http:// or https:// address" in refused.text
    page.refresh_from_db()
    assert page.name == "Acme status" and page.support_url == ""

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, _page_form(page, name="Acme platform status", support_url="https://help.acme.test/"))
    assert response.status_code == 302, response.text[-2000:]
    page.refresh_from_db()
    assert (page.name, page.support_url) == ("Acme platform status", "https://help.acme.test/")
    assert _entry(page, admin_user, CHANGE).change_message == "Changed name, support url."
    assert json.loads(client.get(API + "summary.json").content)["page"]["name"] == "Acme platform status"

    assert client.get("/admin/statuspage/pagesettings/add/").status_code == 403  # one row: change it


def test_footer_links_added_in_the_admin_go_through_the_page_service(client, admin_user, page):
    client.force_login(admin_user)
    url = f"/admin/statuspage/pagesettings/{page.pk}/change/"
    link = {"footer_links-TOTAL_FORMS": 1, "footer_links-0-label": "Privacy", "footer_links-0-position": 0}
    refused = client.post(url, _page_form(page, **link, **{"footer_links-0-url": "ftp://acme.test/privacy"}))
    assert refused.status_code == 200 and "Only an absolute http:// or https:// address" in refused.text
    assert not FooterLink.objects.exists()

    response = client.post(url, _page_form(page, **link, **{"footer_links-0-url": "https://acme.test/privacy"}))
    assert response.status_code == 302, response.text[-2000:]
    assert FooterLink.objects.get(page=page).url == "https://acme.test/privacy"
    assert _entry(page, admin_user, CHANGE).change_message == "footer link added: “Privacy”"


def test_component_groups_through_their_service(client, admin_user, components, django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/statuspage/componentgroup/add/", {"name": "Edge", "description": "", "position": 3})
    assert response.status_code == 302, response.text[-2000:]
    edge = ComponentGroup.objects.get(name="Edge")
    assert _entry(edge, admin_user, ADDITION) is not None
    assert any(c["name"] == "Edge" for c in json.loads(client.get(API + "components.json").content)["components"])

    platform = ComponentGroup.objects.get(name="Platform")
    response = client.post(f"/admin/statuspage/componentgroup/{platform.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not ComponentGroup.objects.filter(pk=platform.pk).exists()
    assert StatusComponent.objects.get(pk=components["api"].pk).group is None  # still on the page, ungrouped
    entry = LogEntry.objects.get(object_id=str(platform.pk), user=admin_user, action_flag=DELETION)
    assert entry.change_message == "ungrouped: API, Database"


def test_a_public_incident_is_corrected_or_taken_off_through_its_service(
        client, admin_user, responder, components, django_capture_on_commit_callbacks):
    incident = declare("Checkout errors", by=responder)
    services.incident_publish_update(incident=incident, body="We are looking into it.", by=responder, name="Payment problems")
    pub = PublicIncident.objects.get(incident=incident)
    client.force_login(admin_user)
    url = f"/admin/statuspage/publicincident/{pub.pk}/change/"
    form = {"name": "Card payments fail", "impact": "major", "postmortem_summary": "", "postmortem_url": "ftp://acme.test/pm"}
    refused = client.post(url, form)
    assert refused.status_code == 200 and "Only an absolute http:// or https:// address" in refused.text
    assert PublicIncident.objects.get(pk=pub.pk).name == "Payment problems"

    assert json.loads(client.get(API + "incidents.json").content)["incidents"][0]["name"] == "Payment problems"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {**form, "postmortem_url": ""})
    assert response.status_code == 302, response.text[-2000:]
    assert _entry(pub, admin_user, CHANGE).change_message == "Changed name, impact."
    [shown] = json.loads(client.get(API + "incidents.json").content)["incidents"]
    assert (shown["name"], shown["impact"]) == ("Card payments fail", "major")

    assert client.get("/admin/statuspage/publicincident/add/").status_code == 403  # published from the incident page
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/admin/statuspage/publicincident/{pub.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not PublicIncident.objects.exists() and incident.updates.exists()
    assert "taken off the public page" in _entry(pub, admin_user, DELETION).change_message
    assert json.loads(client.get(API + "incidents.json").content)["incidents"] == []


def _subscriber_form(**data):
    return {"kind": "email", "email": "", "endpoint": "", **data}


def test_a_subscriber_added_by_support_gets_the_public_checks_and_the_confirmation(client, admin_user, components):
    client.force_login(admin_user)
    refused = client.post("/admin/statuspage/subscriber/add/", _subscriber_form(kind="webhook", endpoint="http://169.254.169.254/hook"))
    assert refused.status_code == 200 and "never allowed" in refused.text
    refused = client.post("/admin/statuspage/subscriber/add/", _subscriber_form(kind="webhook"))
    assert refused.status_code == 200 and "Enter the webhook" in refused.text
    assert not Subscriber.objects.exists()

    response = client.post("/admin/statuspage/subscriber/add/", _subscriber_form(email="Ops@Acme.test", components=[components["api"].pk]))
    assert response.status_code == 302, response.text[-2000:]
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "ops@acme.test" and subscriber.confirmed_at is None  # double opt-in, as from the page
    assert subscriber_messages(destination_id=subscriber.pk).count() == 1  # the confirmation
    assert _entry(subscriber, admin_user, ADDITION) is not None

    again = client.post("/admin/statuspage/subscriber/add/", _subscriber_form(email="ops@acme.test"))
    assert again.status_code == 200 and "subscribed already" in again.text


def test_support_edits_unsubscribes_and_removes_a_subscriber_through_the_service(client, admin_user, components):
    from incidents.statuspage.subscriptions import subscribe_email

    subscriber = subscribe_email(email="ops@acme.test", components=[components["api"]])
    client.force_login(admin_user)
    url = f"/admin/statuspage/subscriber/{subscriber.pk}/change/"
    response = client.post(url, {"email": "someone-else@evil.test", "components": [components["web"].pk, components["db"].pk]})
    assert response.status_code == 302, response.text[-2000:]
    subscriber.refresh_from_db()
    assert subscriber.email == "ops@acme.test"  # where it goes is fixed: no opt-in bypass
    assert set(subscriber.components.all()) == {components["web"], components["db"]}
    assert _entry(subscriber, admin_user, CHANGE).change_message == "Changed components."

    client.post("/admin/statuspage/subscriber/", {"action": "unsubscribe", "_selected_action": [subscriber.pk]})
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at is not None
    assert _entry(subscriber, admin_user, CHANGE).change_message == "Unsubscribed."

    assert client.post(f"/admin/statuspage/subscriber/{subscriber.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Subscriber.objects.exists()
    assert _entry(subscriber, admin_user, DELETION) is not None
