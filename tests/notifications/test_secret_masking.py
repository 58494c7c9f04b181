"""Webhook URLs and signing secrets are read in full only by their owner (or an admin who
manages them); everyone else sees a masked form that still tells them apart."""

import pytest
from django.test import Client
from django.urls import reverse

from oncall.notifications import services
from oncall.notifications.models import mask_url

SLACK = "https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdefghijklmnopqrstuXyZ"
TEAMS = "https://example.webhook.office.com/webhookb2/1234abcd-aaaa@5678efgh-bbbb/IncomingWebhook/0a1b2c3d4e/99f0-Zq7"
# Tests never reach the internet: the same shapes on a loopback address.
LOCAL_SLACK = "http://127.0.0.1:9/services/T0123ABCD/B0456EFGH/abcdefghijklmnopqrstuXyZ"
LOCAL_TEAMS = "http://127.0.0.1:9/webhookb2/1234abcd-aaaa@5678efgh-bbbb/IncomingWebhook/0a1b2c3d4e/99f0-Zq7"


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True


def test_mask_keeps_host_and_a_hint_only():
    assert mask_url(SLACK) == "https://hooks.slack.com/services/T0…/…XyZ"
    assert mask_url(TEAMS) == "https://example.webhook.office.com/webhookb2/12…/…Zq7"
    assert mask_url("https://hooks.example.com/x?token=secret") == "https://hooks.example.com/…"
    assert mask_url("oncall@example.com") == "oncall@example.com"


def test_stakeholder_subscription_webhooks_are_masked_for_viewers(viewer_api, admin_api, admin_user):
    services.subscription_create(name="Exec channel", kind="slack", target=LOCAL_SLACK, frequency="realtime", severities=[], by=admin_user)
    services.subscription_create(name="Teams", kind="teams", target=LOCAL_TEAMS, frequency="realtime", severities=[], by=admin_user)
    listed = viewer_api.get("/api/v1/stakeholder-subscriptions/")
    assert listed.status_code == 200
    text = listed.content.decode()
    assert LOCAL_SLACK not in text and "abcdefghijklmnop" not in text and LOCAL_TEAMS not in text
    assert "http://127.0.0.1:9/services/T0…/…XyZ" in text
    one = listed.json()["results"][0]["id"]
    assert "abcdefghijklmnop" not in viewer_api.get(f"/api/v1/stakeholder-subscriptions/{one}/").content.decode()
    # The admin who manages subscriptions reads them in full.
    assert LOCAL_SLACK in admin_api.get("/api/v1/stakeholder-subscriptions/").content.decode()


def test_someone_elses_webhook_secret_is_not_shown_on_their_page(admin_user, responder):
    method = services.contact_method_create(user=responder, kind="webhook", target="http://127.0.0.1:9/in/abcdef0123456789")
    admin = Client()
    admin.force_login(admin_user)
    page = admin.get(reverse("notifications:person", args=[responder.pk])).content.decode()
    assert method.secret not in page
    assert "abcdef0123456789" not in page
    edit = admin.get(reverse("notifications:method_edit", args=[method.public_id])).content.decode()
    assert "abcdef0123456789" not in edit
    own = Client()
    own.force_login(responder)
    assert method.secret in own.get(reverse("notifications:person", args=[responder.pk])).content.decode()
