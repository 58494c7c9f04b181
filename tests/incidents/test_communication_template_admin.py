"""Communication templates written from the admin go through incidents.communications: a body
that does not compile is refused, and every change has an audit entry naming the admin."""

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry

from incidents.models import CommunicationTemplate

pytestmark = pytest.mark.django_db


def _form(**data):
    return {"name": "Exec brief", "kind": "progress", "audience": "Email", "body": "{{ title }} is {{ status }}.", "position": 9, **data}


def test_communication_templates_through_the_service_from_the_admin(client, admin_user):
    client.force_login(admin_user)
    refused = client.post("/admin/incidents/communicationtemplate/add/", _form(body="{{ title }} {% if %}"))
    assert refused.status_code == 200 and "The template does not compile" in refused.text
    assert not CommunicationTemplate.objects.filter(name="Exec brief").exists()

    assert client.post("/admin/incidents/communicationtemplate/add/", _form()).status_code == 302
    template = CommunicationTemplate.objects.get(name="Exec brief")
    assert LogEntry.objects.filter(object_id=str(template.pk), user=admin_user, action_flag=ADDITION).exists()

    url = f"/admin/incidents/communicationtemplate/{template.pk}/change/"
    refused = client.post(url, _form(body="{% for x in %}"))
    assert refused.status_code == 200 and "The template does not compile" in refused.text
    assert client.post(url, _form(body="{{ title }}: {{ latest_update }}")).status_code == 302
    template.refresh_from_db()
    assert template.body == "{{ title }}: {{ latest_update }}"
    assert LogEntry.objects.get(object_id=str(template.pk), user=admin_user, action_flag=CHANGE).change_message == "Changed body."

    assert client.post(f"/admin/incidents/communicationtemplate/{template.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not CommunicationTemplate.objects.filter(pk=template.pk).exists()
    assert LogEntry.objects.filter(object_id=str(template.pk), user=admin_user, action_flag=DELETION).exists()
