"""/api/v1/contact-methods/, /api/v1/notification-rules/, /api/v1/notifications/, subscriptions."""

import pytest

from delivery.models import Delivery
from oncall.notifications import services
from oncall.notifications.models import ContactMethod
from tests.incidents.factories import declare

from .factories import email_method, page_message

pytestmark = pytest.mark.django_db


def test_contact_method_crud_of_your_own(responder_api, responder, responder2, receiver):
    theirs = email_method(responder2)
    created = responder_api.post("/api/v1/contact-methods/", {"kind": "webhook", "target": f"{receiver.url}/h", "label": "Pager bot"}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["rules"] == [0]
    listing = responder_api.get("/api/v1/contact-methods/").json()
    assert [m["id"] for m in listing["results"]] == [body["id"]]
    assert responder_api.get(f"/api/v1/contact-methods/{theirs.public_id}/").status_code == 404

    patched = responder_api.patch(f"/api/v1/contact-methods/{body['id']}/", {"rate_limit_count": 2}, format="json")
    assert patched.status_code == 200 and patched.json()["rate_limit_count"] == 2
    test = responder_api.post(f"/api/v1/contact-methods/{body['id']}/test/")
    assert test.status_code == 202 and test.json()["status"] == "pending"
    assert responder_api.delete(f"/api/v1/contact-methods/{body['id']}/").status_code == 204
    assert not ContactMethod.objects.filter(user=responder).exists()


@pytest.mark.parametrize("target", ["ftp://x/y", "http://169.254.169.254/latest/meta-data/", "javascript:alert(1)"])
def test_bad_webhook_urls_are_clear_errors(responder_api, target):
    response = responder_api.post("/api/v1/contact-methods/", {"kind": "slack", "target": target}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and "target" in response.json()["errors"]
    assert not ContactMethod.objects.exists()


def test_viewer_cannot_create_contact_methods(viewer_api):
    assert viewer_api.post("/api/v1/contact-methods/", {"kind": "email", "target": "v@example.com"}, format="json").status_code == 403


def test_rules_through_the_api(responder_api, responder):
    method = email_method(responder, add_default_rule=False)
    response = responder_api.post("/api/v1/notification-rules/", {"contact_method": str(method.public_id), "delay_minutes": 5}, format="json")
    assert response.status_code == 201
    dup = responder_api.post("/api/v1/notification-rules/", {"contact_method": str(method.public_id), "delay_minutes": 5}, format="json")
    assert dup.status_code == 400


def test_rule_for_someone_elses_method_is_refused(responder_api, responder2):
    method = email_method(responder2)
    response = responder_api.post("/api/v1/notification-rules/", {"contact_method": str(method.public_id), "delay_minutes": 1}, format="json")
    assert response.status_code == 400


def test_notifications_are_readable_and_filterable(viewer_api, responder, django_assert_max_num_queries):
    a = declare(by=responder)
    b = declare(by=responder)
    email_method(responder)
    services.notify_user(user=responder, message=page_message(a), dedup_key="a")
    services.notify_user(user=responder, message=page_message(b), dedup_key="b")
    Delivery.objects.filter(incident=b).update(status="failed", error="HTTP 500")
    for i in range(10):
        services.notify_user(user=responder, message=page_message(a, title=f"t{i}"), dedup_key=f"x{i}")

    with django_assert_max_num_queries(8):
        everything = viewer_api.get("/api/v1/notifications/")
    assert everything.json()["count"] == 12
    failed = viewer_api.get("/api/v1/notifications/", {"status": "failed"}).json()
    assert [r["incident"] for r in failed["results"]] == [b.number]
    assert failed["results"][0]["error"] == "HTTP 500"
    method = ContactMethod.objects.get(user=responder)
    row = failed["results"][0]
    assert (row["purpose"], row["contact_method"], row["subscription"], row["channel"]) == ("paging", str(method.public_id), None, "email")
    by_incident = viewer_api.get("/api/v1/notifications/", {"incident": a.number}).json()
    assert by_incident["count"] == 11
    assert viewer_api.post("/api/v1/notifications/", {}, format="json").status_code in (403, 405)


def test_stakeholder_subscriptions_need_admin_to_create(responder_api, admin_api, receiver):
    payload = {"name": "Execs", "kind": "slack", "target": f"{receiver.url}/s", "frequency": "hourly", "severities": ["P0"]}
    assert responder_api.post("/api/v1/stakeholder-subscriptions/", payload, format="json").status_code == 403
    created = admin_api.post("/api/v1/stakeholder-subscriptions/", payload, format="json")
    assert created.status_code == 201 and created.json()["severities"] == ["P0"]
    bad = admin_api.post("/api/v1/stakeholder-subscriptions/", {**payload, "target": "http://169.254.169.254/"}, format="json")
    assert bad.status_code == 400
