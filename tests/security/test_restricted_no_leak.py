"""The proof of restricted incidents: a unique string planted everywhere in a restricted incident
(title, summary, status update, note, postmortem, action item, alert label) appears on no page,
in no API answer and in no admin list for anyone outside its responders and groups, and its
own URLs answer 404 to them, as if it did not exist.

Every URL the portal serves is requested (the permission matrix's rows, which a test keeps in
step with the URL resolver), as every role, plus every model's admin list."""

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from delivery.models import Delivery
from incidents import services
from incidents.audit import READ
from incidents.integrations.models import Alert
from incidents.models import Incident, IncidentType
from postmortems import services as pm_services
from tests.test_permission_matrix import OTHERS, ROLES, ROWS, _client, _own, _world

SECRET = "zq-ultraviolet-4471"


def _plant(w):
    """A restricted security incident carrying the secret everywhere; dana is its commander."""
    dana = w["people"]["dana"]
    security = IncidentType.objects.get(key="security")
    incident = services.incident_declare(
        title=f"Breach {SECRET}", incident_type=security, by=dana, summary=f"summary {SECRET}",
        impact=f"impact {SECRET}", services=[w["service"]], commander=dana)
    assert incident.restricted and {g.name for g in incident.access_groups.all()} == {"Security", "Legal"}
    services.incident_post_update(incident=incident, body=f"update {SECRET}", by=dana)
    services.incident_add_note(incident=incident, body=f"note {SECRET}", by=dana)
    services.incident_add_link(incident=incident, title=f"link {SECRET}", url="https://tickets.example.com/1", by=dana)
    now = timezone.now()
    alert = Alert.objects.create(integration=w["integration"], incident=incident, fingerprint=f"fp-{SECRET}", title=f"alert {SECRET}",
                                 labels={"team": SECRET}, first_seen_at=now, last_seen_at=now)
    delivery = Delivery.objects.create(purpose="paging", channel="email", target="d***@example.com", dedup_key=f"page-{SECRET}",
                                       incident=incident, user=dana, due_at=now, message={"title": f"page {SECRET}"})
    services.incident_resolve(incident=incident, summary=f"resolved {SECRET}", by=dana)
    postmortem = Incident.objects.get(pk=incident.pk).postmortems.first() or pm_services.postmortem_create(
        incident=incident, by=dana, owner=dana)
    pm_services.postmortem_update(postmortem=postmortem, by=dana, title=f"Postmortem {SECRET}")
    item = pm_services.action_item_create(incident=incident, title=f"action {SECRET}", by=dana, owner=dana,
                                          due_date=timezone.localdate() + timezone.timedelta(days=7))
    objects = {"incident": Incident.objects.get(pk=incident.pk), "open_incident": incident, "postmortem": postmortem,
               "action_item": item, "alert": alert, "notification": delivery}
    return objects


def _leaks(response, number) -> list[str]:
    body = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    text = body.decode("utf-8", "replace")
    return [what for what in (SECRET, number) if what in text]


@pytest.mark.django_db
def test_a_restricted_incident_exists_for_nobody_outside_it():
    w = _world()
    planted = _plant(w)
    restricted = planted["incident"]
    number = restricted.number
    outsiders = [r for r in ROLES if r != "deactivated"]
    clients = {(role, api): _client(role, w, api) for role in outsiders for api in (False, True)}
    leaks, not_hidden, scanned = [], [], 0
    for row in ROWS + OTHERS:
        if "GET" not in row.methods:
            continue
        for role in outsiders:
            name = row.name.split("@")[0]
            for target, expect_404 in ((w, False), ({**w, **planted}, True)):
                try:
                    if expect_404 and row.kwargs(w) == row.kwargs(target):
                        continue  # the URL does not name the incident
                    url = reverse(name, kwargs={k: str(v) for k, v in row.kwargs(target).items()}) if "@" in row.name else _own(row, target, role)
                except Exception:  # noqa: BLE001 - a row whose URL needs more than the world: the matrix reports it
                    continue
                for suffix in ("", ("?search=" if row.api else "?q=") + SECRET[:10]):
                    response = clients[(role, row.api)].get(url + suffix)
                    scanned += 1
                    found = _leaks(response, number)
                    if found:
                        leaks.append(f"GET {url}{suffix} as {role}: {found}")
                    if expect_404 and not suffix and role != "anonymous" and response.status_code not in (302, 403, 404):
                        not_hidden.append(f"GET {url} as {role}: {response.status_code}")
    admin_client = clients[("admin", False)]
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for suffix in ("", "?q=" + SECRET[:10]):
            response = admin_client.get(url + suffix)
            scanned += 1
            if _leaks(response, number):
                leaks.append(f"admin GET {url}{suffix}: {_leaks(response, number)}")
    response = admin_client.get(reverse("admin:incidents_incident_change", args=[restricted.pk]))
    if response.status_code not in (302, 404) or _leaks(response, number):
        not_hidden.append(f"admin change page: {response.status_code}")
    assert scanned > 500
    assert not leaks, f"{len(leaks)} answers show the restricted incident:\n" + "\n".join(leaks)
    assert not not_hidden, "its own URLs answer as if it existed:\n" + "\n".join(not_hidden)


@pytest.mark.django_db
def test_responders_and_named_groups_see_it_and_override_reads_are_audited():
    w = _world()
    restricted = _plant(w)["incident"]
    User = get_user_model()
    url = reverse("incidents:detail", kwargs={"number": restricted.number})
    dana = w["people"]["dana"]
    lawyer = User.objects.create_user("lawyer", "lawyer@example.com", "pw-123456")
    lawyer.groups.add(Group.objects.get(name="Viewer"), Group.objects.get(name="Legal"))
    auditor = User.objects.create_user("auditor", "auditor@example.com", "pw-123456")
    auditor.groups.add(Group.objects.get(name="Viewer"))
    auditor.user_permissions.add(Permission.objects.get(codename="read_restricted_incident"))
    for user in (dana, lawyer, auditor):
        client = _client("viewer", {**w, "roles": {"viewer": user}}, api=False)
        response = client.get(url)
        assert response.status_code == 200 and SECRET in response.content.decode(), user
        assert SECRET in client.get(reverse("incidents:list")).content.decode(), user
    reads = LogEntry.objects.filter(action_flag=READ, object_id=str(restricted.pk))
    assert list(reads.values_list("user__username", flat=True)) == ["auditor"]


@pytest.mark.django_db
def test_restricting_and_lifting_are_on_the_timeline_and_in_the_audit_log(responder):
    from incidents.models import Severity

    incident = services.incident_declare(title="Odd logins", severity=Severity.objects.get(key="P2"), by=responder)
    assert not incident.restricted
    security = Group.objects.get_or_create(name="Security")[0]
    services.incident_set_restriction(incident=incident, restricted=True, access_groups=[security], by=responder)
    incident.refresh_from_db()
    assert incident.restricted and list(incident.access_groups.all()) == [security]
    services.incident_set_restriction(incident=incident, restricted=False, by=responder)
    incident.refresh_from_db()
    assert not incident.restricted and not incident.access_groups.exists()
    kinds = list(incident.timeline.filter(kind__in=["restricted", "unrestricted"]).values_list("kind", "actor__username"))
    assert kinds == [("restricted", "responder"), ("unrestricted", "responder")]
    messages = list(LogEntry.objects.filter(object_id=str(incident.pk), user=responder).order_by("pk").values_list("change_message", flat=True))
    assert messages == ["Restricted to its responders and Security", "Restriction lifted: every viewer can read it"]
