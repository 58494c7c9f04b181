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


def test_a_type_template_from_the_admin_replaces_the_generic_one_of_its_kind_on_the_incident(client, admin_user):
    """A template made for the security type (in the admin, audited) is what the communications
    page offers for a security incident, instead of the generic initial alert; other incidents
    still get the generic one and never see it."""
    from incidents.models import IncidentType

    from .factories import declare

    security = IncidentType.objects.get(key="security")
    client.force_login(admin_user)
    data = _form(name="Security: initial notice (Legal)", kind="initial", audience="Email, Legal",
                 body="Security incident {{ number }}: do not forward.", incident_type=security.pk)
    assert client.post("/admin/incidents/communicationtemplate/add/", data).status_code == 302
    template = CommunicationTemplate.objects.get(name="Security: initial notice (Legal)")
    assert template.incident_type == security
    assert LogEntry.objects.filter(object_id=str(template.pk), user=admin_user, action_flag=ADDITION).exists()

    breach = declare(title="Keys leaked", severity="P0", incident_type=security, by=admin_user)
    outage = declare(title="API down", severity="P0", by=admin_user)
    page = client.get(f"{breach.get_absolute_url()}communications/").content.decode()
    assert f"Security incident {breach.number}: do not forward." in page
    assert "🚨 INCIDENT: Keys leaked" not in page  # the generic initial alert gives way
    assert "UPDATE [+" in page  # kinds the type has no template of: the generic ones
    other = client.get(f"{outage.get_absolute_url()}communications/").content.decode()
    assert "🚨 INCIDENT: API down" in other and "do not forward" not in other
