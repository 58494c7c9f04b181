"""Every admin write goes through the services: each registered admin of the portal's apps (and
each inline) either routes its writes (`WritesThroughServices`: save, delete, inlines, bulk
delete) or offers none. The list below names the admins that still write directly, with why."""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from incidents.admin import WritesThroughServices

pytestmark = pytest.mark.django_db

PORTAL_APPS = {"incidents", "integrations", "statuspage", "oncall", "notifications", "postmortems", "delivery", "chatops"}

# Configuration with no rule beyond the model's own and nothing that pages: edited directly for now.
DIRECT = {
    "statuspage.pagesettings": "the public page's look; the admin bumps the cache",
    "statuspage.componentgroup": "grouping on the public page; the admin bumps the cache",
    "statuspage.publicincident": "the public name of an incident",
    "statuspage.subscriber": "public subscribers (support edits)",
    "postmortems.postmortemtemplate": "postmortem templates",
    "postmortems.severitytemplate": "which template a severity uses",
    "notifications.updatereminder": "reminder rows (moving to the delivery layer)",
}
# Rows the system writes, which support may delete by hand (outbox, history of deliveries, caches).
RECORDS = {
    "incidents.eventdelivery", "incidents.idempotencyrecord", "incidents.incidentchecklistitem", "integrations.alert",
    "integrations.alertgroup", "delivery.delivery",
}


HANDLER = {"add": "create", "change": "update", "delete": "delete"}


@pytest.fixture
def request_(admin_user):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    return request


def _writes(model_admin, request) -> list[str]:
    """What the admin lets a superuser write: add, change (a field not read-only), delete."""
    inline = not isinstance(model_admin, admin.ModelAdmin)
    can = []
    if model_admin.has_add_permission(request, *((None,) if inline else ())):
        can.append("add")
    editable = set(model_admin.get_fields(request)) - set(model_admin.get_readonly_fields(request))
    if model_admin.has_change_permission(request, None) and editable:
        can.append("change")
    if model_admin.has_delete_permission(request, None) and (not inline or model_admin.can_delete):
        can.append("delete")
    return can


def test_every_admin_writes_through_the_services_or_not_at_all(request_):
    offenders = []
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        if model._meta.app_label not in PORTAL_APPS or label in DIRECT:
            continue
        routed = isinstance(model_admin, WritesThroughServices)
        writes = _writes(model_admin, request_)
        if not routed and writes and not (label in RECORDS and writes == ["delete"]):
            offenders.append(f"{label}: {', '.join(writes)} directly")
        for inline in model_admin.get_inline_instances(request_):
            name = inline.model._meta.model_name
            for verb in _writes(inline, request_):
                if not (routed and callable(getattr(model_admin, f"inline_{name}_{HANDLER[verb]}", None))):
                    offenders.append(f"{label} inline {name}: {verb} directly")
    assert not offenders, "\n".join(sorted(offenders))


def test_a_revoked_api_token_stays_revoked_whatever_the_admin_posts(client, admin_user, responder, api_for):
    from django.contrib.admin.models import LogEntry

    from incidents.access import api_token_create
    from incidents.models import ApiToken

    token, key = api_token_create(user=responder)
    client.force_login(admin_user)
    client.post("/admin/incidents/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert LogEntry.objects.filter(user=admin_user, object_id=str(responder.pk), change_message__contains="revoked").exists()
    edit = client.post(f"/admin/incidents/apitoken/{token.pk}/change/", {"name": "again", "revoked_at_0": "", "revoked_at_1": ""})
    assert edit.status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is not None and ApiToken.objects.filter(pk=token.pk).exists()
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/incidents/").status_code == 401


def test_heartbeat_timing_changed_in_the_admin_goes_through_its_integration(client, admin_user, sev):
    from datetime import timedelta

    from django.contrib.admin.models import LogEntry

    from incidents.integrations.services import configuration
    from tests.incidents.factories import ServiceFactory

    integration, _key = configuration.integration_create(name="cron", service=ServiceFactory(), kind="heartbeat", default_severity=sev("P2"))
    heartbeat = integration.heartbeat
    client.force_login(admin_user)
    response = client.post(f"/admin/integrations/heartbeat/{heartbeat.pk}/change/", {"interval": "00:30:00", "grace": "00:02:00"})
    assert response.status_code == 302
    heartbeat.refresh_from_db()
    assert (heartbeat.interval, heartbeat.grace) == (timedelta(minutes=30), timedelta(minutes=2))
    entry = LogEntry.objects.get(object_id=str(integration.pk), user=admin_user)
    assert entry.change_message == "Changed heartbeat_grace, heartbeat_interval."
