"""Severities and services through their services, whatever the entry point: the API and the
admin write the same audit entries and meet the same checks."""

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry

from incidents.models import Severity

from .factories import declare

pytestmark = pytest.mark.django_db


def _log(obj_or_model, pk):
    return [(e.user.username, e.action_flag, e.get_change_message()) for e in LogEntry.objects.filter(
        object_id=str(pk), content_type__model=obj_or_model._meta.model_name).order_by("action_time", "pk")]


def test_severity_created_changed_and_deleted_through_the_api_is_audited(admin_api):
    created = admin_api.post("/api/v1/severities/", {"key": "SEV9", "label": "Odd", "rank": 90}, format="json")
    assert created.status_code == 201, created.content
    severity = Severity.objects.get(key="SEV9")
    changed = admin_api.patch("/api/v1/severities/SEV9/", {"label": "Very odd", "rank": 90}, format="json")
    assert changed.status_code == 200 and changed.json()["label"] == "Very odd"
    assert admin_api.delete("/api/v1/severities/SEV9/").status_code == 204
    assert [(u, flag) for u, flag, _m in _log(Severity, severity.pk)] == [("boss", ADDITION), ("boss", CHANGE), ("boss", DELETION)]
    assert _log(Severity, severity.pk)[1][2] == "Changed label."


def test_a_severity_in_use_is_not_deleted_by_the_api_or_the_admin(admin_api, client, admin_user, responder):
    declare(by=responder, severity="P2")
    p2 = Severity.objects.get(key="P2")
    refused = admin_api.delete("/api/v1/severities/P2/")
    assert refused.status_code == 409 and "is_active" in refused.json()["message"]
    client.force_login(admin_user)
    client.post("/admin/incidents/severity/", {"action": "delete_selected", "_selected_action": [p2.pk], "post": "yes"})
    assert Severity.objects.filter(key="P2").exists()


def test_severity_added_in_the_admin_is_audited_once_with_its_checklist(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/admin/incidents/severity/add/", {
        "key": "SEV7", "label": "Admin made", "description": "", "rank": 70, "colour": "#667085", "update_policy": "periodic",
        "urgency": "high", "checklist_items-TOTAL_FORMS": 1, "checklist_items-INITIAL_FORMS": 0,
        "checklist_items-0-text": "Page the lead", "checklist_items-0-position": 0,
    })
    assert response.status_code == 302, response.content.decode()[-3000:]
    severity = Severity.objects.get(key="SEV7")
    assert list(severity.checklist_items.values_list("text", flat=True)) == ["Page the lead"]
    log = _log(Severity, severity.pk)
    assert [(u, flag) for u, flag, _m in log] == [("boss", ADDITION), ("boss", CHANGE)]
    assert "Page the lead" in log[1][2]


def test_service_changed_in_the_admin_is_audited_by_the_service(client, admin_user, admin_api):
    assert admin_api.post("/api/v1/services/", {"name": "Billing", "slug": "billing"}, format="json").status_code == 201
    from incidents.models import Service

    service = Service.objects.get(slug="billing")
    client.force_login(admin_user)
    response = client.post(f"/admin/incidents/service/{service.pk}/change/", {
        "name": "Billing v2", "slug": "billing", "description": "", "team": "payments", "runbook_url": ""})
    assert response.status_code == 302
    assert [m for _u, _f, m in _log(Service, service.pk)] == ["", "Changed name, team."]


def test_communication_template_added_changed_and_deleted_in_the_admin_is_audited_by_the_services(client, admin_user):
    from incidents.models import CommunicationTemplate

    client.force_login(admin_user)
    fields = {"name": "Exec brief", "kind": "progress", "audience": "Email", "body": "{{ title }}: {{ status }}", "position": 9}
    assert client.post("/admin/incidents/communicationtemplate/add/", fields).status_code == 302
    template = CommunicationTemplate.objects.get(name="Exec brief")
    changed = client.post(f"/admin/incidents/communicationtemplate/{template.pk}/change/", {**fields, "audience": "Slack"})
    assert changed.status_code == 302
    assert client.post(f"/admin/incidents/communicationtemplate/{template.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not CommunicationTemplate.objects.filter(pk=template.pk).exists()
    assert [(u, flag, m) for u, flag, m in _log(CommunicationTemplate, template.pk)] == [
        ("boss", ADDITION, "Progress update for Email"), ("boss", CHANGE, "Changed audience."), ("boss", DELETION, "")]


def test_metric_targets_are_changed_in_the_admin_through_their_service(client, admin_user):
    """One seeded row: edited in the admin (audited by catalog.metric_targets_update), never added
    or deleted; a bad value is a form error, not a 500."""
    from datetime import timedelta

    from incidents.models import MetricTargets

    client.force_login(admin_user)
    url = "/admin/incidents/metrictargets/1/change/"
    targets = MetricTargets.objects.get()
    assert targets.mttk_target == timedelta(minutes=5) and targets.false_positive_rate_target == 0.1  # seeded
    data = {"mttk_target": "00:10:00", "mtti_target": "00:15:00", "mtbf_target": "30 00:00:00", "false_positive_rate_target": "0.05"}
    assert client.post(url, data).status_code == 302
    targets.refresh_from_db()
    assert (targets.mttk_target, targets.false_positive_rate_target) == (timedelta(minutes=10), 0.05)
    assert _log(MetricTargets, 1) == [(admin_user.username, CHANGE, "Changed MTTK target, false-positive rate target.")]
    bad = client.post(url, {**data, "false_positive_rate_target": "2"})
    assert bad.status_code == 200 and "errornote" in bad.content.decode()
    assert client.get("/admin/incidents/metrictargets/add/").status_code == 403


def test_metric_targets_through_the_api_are_audited_and_checked(admin_api):
    got = admin_api.get("/api/v1/metric-targets/1/")
    assert got.status_code == 200 and got.json()["mttk_target"] == "00:05:00"
    changed = admin_api.patch("/api/v1/metric-targets/1/", {"mtti_target": "00:20:00"}, format="json")
    assert changed.status_code == 200 and changed.json()["mtti_target"] == "00:20:00"
    from incidents.models import MetricTargets

    assert [m for _u, _f, m in _log(MetricTargets, 1)] == ["Changed MTTI target."]
    bad = admin_api.patch("/api/v1/metric-targets/1/", {"false_positive_rate_target": 1.5}, format="json")
    assert bad.status_code == 400
    assert admin_api.get("/api/v1/metric-targets/").json()["results"][0]["mtti_target"] == "00:20:00"
