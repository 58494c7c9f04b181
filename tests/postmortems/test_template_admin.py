"""Postmortem templates, their sections and which template each severity uses, written from the
admin through postmortems.configuration: one default, a template in use or the last one kept,
one template per severity, each change audited with the admin's name."""

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry

from incidents.exceptions import InUse, InvalidInput
from postmortems import configuration, services
from postmortems.models import PostmortemTemplate, SeverityTemplate

pytestmark = pytest.mark.django_db

STANDARD, RCA = "Standard postmortem", "Root cause analysis (RCA)"


def _entries(obj, user, flag):
    return list(LogEntry.objects.filter(object_id=str(obj.pk), user=user, action_flag=flag).values_list("change_message", flat=True))


def _template_form(**data):
    return {"name": "Security review", "description": "", "sections-TOTAL_FORMS": 0, "sections-INITIAL_FORMS": 0,
            "severitytemplate_set-TOTAL_FORMS": 0, "severitytemplate_set-INITIAL_FORMS": 0, **data}


def test_a_template_added_in_the_admin_takes_the_default_and_its_sections_through_the_service(client, admin_user, sev):
    client.force_login(admin_user)
    section = {"sections-TOTAL_FORMS": 1, "sections-0-position": 0, "sections-0-key": "exposure", "sections-0-title": "Exposure",
               "sections-0-group": "", "sections-0-prefill": "", "sections-0-guidance": "What data was reachable."}
    taken = {"severitytemplate_set-TOTAL_FORMS": 1, "severitytemplate_set-0-severity": sev("P1").pk}
    refused = client.post("/admin/postmortems/postmortemtemplate/add/", _template_form(is_default="on", **section, **taken))
    assert refused.status_code == 200 and "already exists" in refused.text  # one template per severity
    assert not PostmortemTemplate.objects.filter(name="Security review").exists()  # nothing half-saved
    assert PostmortemTemplate.objects.get(is_default=True).name == STANDARD

    response = client.post("/admin/postmortems/postmortemtemplate/add/", _template_form(is_default="on", **section))
    assert response.status_code == 302, response.text[-2000:]
    new = PostmortemTemplate.objects.get(name="Security review")
    assert new.is_default and list(new.sections.values_list("key", flat=True)) == ["exposure"]
    standard = PostmortemTemplate.objects.get(name=STANDARD)
    assert not standard.is_default  # one default: the flag moved
    assert _entries(standard, admin_user, CHANGE) == ["No longer the default template."]
    assert _entries(new, admin_user, ADDITION) == ["the default"]
    assert _entries(new, admin_user, CHANGE) == ["section added: “Exposure”"]


def test_a_template_in_use_or_the_last_one_is_kept(client, admin_user, postmortem):
    used = postmortem.template
    with pytest.raises(InUse):
        configuration.template_delete(template=used, by=admin_user)
    client.force_login(admin_user)
    rca = PostmortemTemplate.objects.get(name=RCA)
    assert client.post(f"/admin/postmortems/postmortemtemplate/{rca.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not PostmortemTemplate.objects.filter(pk=rca.pk).exists()
    assert LogEntry.objects.filter(object_id=str(rca.pk), user=admin_user, action_flag=DELETION).exists()
    assert PostmortemTemplate.objects.filter(pk=used.pk).exists()


def test_the_last_template_cannot_be_deleted_from_the_admin(client, admin_user):
    client.force_login(admin_user)
    rca, standard = PostmortemTemplate.objects.get(name=RCA), PostmortemTemplate.objects.get(name=STANDARD)
    client.post(f"/admin/postmortems/postmortemtemplate/{rca.pk}/delete/", {"post": "yes"})
    response = client.post(f"/admin/postmortems/postmortemtemplate/{standard.pk}/delete/", {"post": "yes"}, follow=True)
    assert "The last postmortem template stays" in response.text
    assert PostmortemTemplate.objects.filter(pk=standard.pk).exists()


def test_which_template_a_severity_uses_is_changed_through_the_service(client, admin_user, sev):
    client.force_login(admin_user)
    rca = PostmortemTemplate.objects.get(name=RCA)
    choice = SeverityTemplate.objects.get(severity=sev("P2"))
    response = client.post(f"/admin/postmortems/severitytemplate/{choice.pk}/change/", {"severity": sev("P2").pk, "template": rca.pk})
    assert response.status_code == 302, response.text[-2000:]
    assert services.template_for(sev("P2")) == rca
    assert _entries(rca, admin_user, CHANGE) == [f"P2 uses “{RCA}” (was “{STANDARD}”)"]

    refused = client.post("/admin/postmortems/severitytemplate/add/", {"severity": sev("P1").pk, "template": rca.pk})
    assert refused.status_code == 200 and "already exists" in refused.text
    with pytest.raises(InvalidInput, match="P1 has a template already"):  # the service holds the rule too
        configuration.severity_template_set(severity=sev("P1"), template=rca, by=admin_user)
    assert services.template_for(sev("P1")).name == STANDARD
