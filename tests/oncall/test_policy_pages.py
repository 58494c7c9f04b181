"""The escalation policy editor on the staff pages: levels as a formset, the service's rules
for bad input, the change log, and who may use it."""

import re

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.urls import reverse

from oncall.models import EscalationPolicy, ServicePolicy
from oncall.services.policies import LevelSpec, policy_save
from tests.incidents.factories import ServiceFactory

from .conftest import Condition, LevelMode, TargetKind, make_policy, make_schedule

pytestmark = pytest.mark.django_db


def _post(levels, **policy):
    """The form as a browser sends it: the policy's fields, the management form, one block a level."""
    data = {"name": "Checkout", "description": "", "repeat": "0", "repeat_after_minutes": "15",
            "levels-TOTAL_FORMS": str(len(levels)), "levels-INITIAL_FORMS": str(policy.pop("initial", 0)),
            "levels-MIN_NUM_FORMS": "0", "levels-MAX_NUM_FORMS": "20", **policy}
    for i, level in enumerate(levels):
        fields = {"delay_minutes": "0", "condition": Condition.NOT_ACKNOWLEDGED, "mode": LevelMode.ALL,
                  "round_robin_minutes": "5", **level}
        for name, value in fields.items():
            data[f"levels-{i}-{name}"] = value
    return data


@pytest.fixture
def rota(responder, responder2):
    return make_schedule("Checkout primary", [responder, responder2])


def test_admin_creates_a_policy_with_levels_and_services(client, admin_user, responder, rota, sev):
    service = ServiceFactory(name="Checkout")
    client.force_login(admin_user)
    page = client.get(reverse("oncall:policy_new"))
    assert page.status_code == 200 and b"Add a level" in page.content and b"Checkout primary" in page.content
    assert b"DELETE" not in page.content and b'data-picker' in page.content

    response = client.post(reverse("oncall:policy_new"), _post([
        {"targets": [f"schedule:{rota.pk}"]},
        {"delay_minutes": "15", "targets": [f"user:{responder.pk}", f"schedule:{rota.pk}"]},
        {"delay_minutes": "60", "condition": Condition.NOT_RESOLVED, "severities": ["P0"], "targets": [f"user:{admin_user.pk}"]},
        {},  # the blank "add a level" block, left as it came
    ], services=[service.pk], repeat="2", repeat_after_minutes="10"))

    policy = EscalationPolicy.objects.get(name="Checkout")
    assert response.status_code == 302 and response["Location"] == policy.get_absolute_url()
    levels = list(policy.levels.prefetch_related("targets", "severities").order_by("position"))
    assert [(lv.delay_seconds, lv.condition) for lv in levels] == [
        (0, Condition.NOT_ACKNOWLEDGED), (900, Condition.NOT_ACKNOWLEDGED), (3600, Condition.NOT_RESOLVED)]
    assert [(t.kind, t.schedule_id or t.user_id) for t in levels[1].targets.all()] == [
        (TargetKind.USER, responder.pk), (TargetKind.SCHEDULE, rota.pk)]
    assert [s.key for s in levels[2].severities.all()] == ["P0"]
    assert (policy.repeat, policy.repeat_after_seconds) == (2, 600)
    assert ServicePolicy.objects.get(service=service).policy == policy

    entry = LogEntry.objects.get(object_id=str(policy.pk), content_type__model="escalationpolicy")
    assert entry.user == admin_user and entry.is_addition()
    detail = client.get(policy.get_absolute_url())
    assert b"created it" in detail.content and b"Boss" in detail.content


def test_editing_keeps_untouched_levels_and_drops_removed_ones(client, admin_user, responder, responder2, rota):
    service = ServiceFactory()
    policy = make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, responder)]),
                          (600, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, responder2)]),
                          (1800, Condition.NOT_MITIGATED, [(TargetKind.SCHEDULE, rota)])], name="Payments", service=service)
    client.force_login(admin_user)
    url = reverse("oncall:policy_edit", args=[policy.pk])
    form = client.get(url)
    assert form.status_code == 200 and b'value="Payments"' in form.content and b"DELETE" not in form.content

    # The level's Remove button (without scripts) shows the form again without it, saving nothing.
    removed = client.post(url, {**_post([
        {"targets": [f"user:{responder.pk}"]},
        {"delay_minutes": "10", "targets": [f"user:{responder2.pk}"]},
        {"delay_minutes": "45", "condition": Condition.NOT_MITIGATED, "targets": [f"schedule:{rota.pk}"]},
    ], name="Payments", services=[service.pk]), "rows": "remove:levels-1"})
    assert removed.status_code == 200 and policy.levels.count() == 3
    assert [f["delay_minutes"].value() for f in removed.context["levels"]] == ["0", "45"]
    assert "Choose who this level pages" not in removed.content.decode()  # work in progress, not errors

    response = client.post(url, removed.context["levels"].data)  # Save policy, as the page now stands
    assert response.status_code == 302
    levels = list(policy.levels.order_by("position"))
    assert [(lv.delay_seconds, lv.condition) for lv in levels] == [(0, Condition.NOT_ACKNOWLEDGED), (2700, Condition.NOT_MITIGATED)]
    assert LogEntry.objects.get(object_id=str(policy.pk), content_type__model="escalationpolicy").is_change()


def test_bad_input_is_explained_and_nothing_is_saved(client, admin_user, responder):
    make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, responder)])], name="Taken")
    client.force_login(admin_user)
    url = reverse("oncall:policy_new")

    no_target = client.post(url, _post([{"delay_minutes": "5"}]))
    assert no_target.status_code == 200 and "Choose who this level pages" in no_target.content.decode()

    no_levels = client.post(url, _post([{}]))
    assert no_levels.status_code == 200 and "at least one level" in no_levels.content.decode()

    taken = client.post(url, _post([{"targets": [f"user:{responder.pk}"]}], name="Taken"))
    assert taken.status_code == 200 and "already exists" in taken.content.decode()

    forged = client.post(url, _post([{"targets": ["user:999999"]}]))
    assert forged.status_code == 200 and "not one of the available choices" in forged.content.decode()

    negative = client.post(url, _post([{"delay_minutes": "-1", "targets": [f"user:{responder.pk}"]}]))
    assert negative.status_code == 200 and b"greater than or equal to 0" in negative.content

    assert list(EscalationPolicy.objects.values_list("name", flat=True)) == ["Taken"]


def test_only_people_allowed_to_change_policies_can_edit(client, responder, viewer):
    policy = make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, responder)])])
    for user in (responder, viewer):
        client.force_login(user)
        assert client.get(reverse("oncall:policy_new")).status_code == 403
        assert client.post(reverse("oncall:policy_edit", args=[policy.pk]), _post([{}])).status_code == 403
        assert b"policies/%d/edit/" % policy.pk not in client.get(policy.get_absolute_url()).content
    client.logout()
    assert client.get(reverse("oncall:policy_new")).status_code == 302


def test_api_changes_are_in_the_same_change_log(admin_api, responder):
    response = admin_api.post("/api/v1/escalation-policies/", {
        "name": "From the API", "levels": [{"delay_seconds": 0, "targets": [{"kind": "user", "id": responder.pk}]}],
    }, format="json")
    assert response.status_code == 201, response.content
    entry = LogEntry.objects.get(object_id=str(response.json()["id"]), content_type__model="escalationpolicy")
    assert entry.user.username == "boss" and entry.is_addition()


def test_nothing_a_policy_pages_can_be_deleted_from_under_it(client, admin_user, admin_api, responder, responder2, rota):
    """Deleting a schedule, layer, person or group that a level pages would leave the level
    paging nobody; deleting a policy a service starts would leave its incidents unpaged."""
    service = ServiceFactory(name="Checkout")
    layer = rota.layers.get()
    policy = make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.LAYER, layer)]),
                          (600, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, responder2)])], name="Checkout paging", service=service)
    client.force_login(admin_user)

    page = client.post(reverse("oncall:layer_delete", args=[layer.pk]), follow=True).content.decode()
    assert "is paged by the escalation policy Checkout paging" in page
    gone = admin_api.delete(f"/api/v1/schedules/{rota.pk}/")
    assert gone.status_code == 409 and gone.json()["code"] == "in_use" and "Checkout paging" in gone.json()["message"]
    in_use = admin_api.delete(f"/api/v1/escalation-policies/{policy.pk}/")
    assert in_use.status_code == 409 and "Checkout" in in_use.json()["message"]
    # People are never deleted (deactivated instead): the admin refuses.
    assert client.get(reverse("admin:auth_user_delete", args=[responder2.pk])).status_code == 403
    assert rota.layers.filter(pk=layer.pk).exists() and EscalationPolicy.objects.filter(pk=policy.pk).exists()

    # Out of use, they go, and the log says who deleted them.
    policy_save(policy=policy, name=policy.name, levels=[LevelSpec(targets=[(TargetKind.USER, responder.pk)])], services=[])
    assert admin_api.delete(f"/api/v1/schedules/{rota.pk}/").status_code == 204
    assert admin_api.delete(f"/api/v1/escalation-policies/{policy.pk}/").status_code == 204
    assert LogEntry.objects.filter(action_flag=DELETION, object_repr="Checkout paging", user=admin_user).exists()


def test_policy_pages_say_which_levels_would_page_nobody_now(client, admin_user, responder, responder2, rota):
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from oncall.notifications.services import contact_method_create, contact_method_update

    User = get_user_model()
    later = make_schedule("Starts next week", [responder], starts_on=timezone.localdate() + timedelta(days=7))
    empty_group = Group.objects.create(name="DBAs")
    gone = User.objects.create_user("gone", "gone@example.com", "pw-123456", first_name="Gone", is_active=False)
    quiet = User.objects.create_user("quiet", "", "pw-123456", first_name="Quiet")  # no contact method, no email
    contact_method_update(method=contact_method_create(user=responder2, kind="email", target="r2@example.com"), is_active=False)

    policy = make_policy([
        (0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.SCHEDULE, rota), (TargetKind.USER, responder)]),
        (300, Condition.NOT_ACKNOWLEDGED, [(TargetKind.SCHEDULE, later), (TargetKind.LAYER, later.layers.get())]),
        (600, Condition.NOT_ACKNOWLEDGED, [(TargetKind.GROUP, empty_group), (TargetKind.USER, gone)]),
        (900, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, responder2), (TargetKind.USER, quiet)]),
    ], name="Leaky")
    client.force_login(admin_user)
    detail = client.get(policy.get_absolute_url()).content.decode()
    banner = detail.split("Would page nobody right now", 1)[1].split("</section>", 1)[0]
    assert re.findall(r"<li>(.*?)</li>", banner) == [
        "Level 2: nobody is on call now in Starts next week · Primary.",
        "Level 2: nobody is on call now in Starts next week.",
        "Level 3: Gone is deactivated.",
        "Level 3: nobody active in the group DBAs.",
        "Level 4: Quiet has no active contact method.",
        "Level 4: Responder2 has no active contact method.",
    ]
    listing = client.get(reverse("oncall:policies")).content.decode()
    assert "6 problems: Level 2: nobody is on call now in Starts next week · Primary." in listing

    healthy = make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.SCHEDULE, rota)])], name="Healthy")
    assert "Would page nobody" not in client.get(healthy.get_absolute_url()).content.decode()

    # The dashboard names it only once a service starts it: an unused draft is nobody's problem yet.
    assert "would page nobody" not in client.get("/").content.decode()
    ServicePolicy.objects.create(service=ServiceFactory(name="Checkout"), policy=policy)
    dashboard = client.get("/").content.decode()
    assert "Escalation policies that would page nobody at some level right now" in dashboard
    assert "Leaky</a> (Level 2: nobody is on call now in Starts next week · Primary. and 5 more)" in dashboard


def test_a_deactivated_person_stays_visible_in_the_form_until_taken_out(client, admin_user, responder, responder2):
    policy = make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, responder), (TargetKind.USER, responder2)])], name="Old")
    responder2.is_active = False
    responder2.save()
    client.force_login(admin_user)
    form = client.get(reverse("oncall:policy_edit", args=[policy.pk])).content.decode()
    assert f'<option value="user:{responder2.pk}" selected>Responder2 (deactivated)</option>' in form
    client.post(reverse("oncall:policy_edit", args=[policy.pk]), _post([{"targets": [f"user:{responder.pk}"]}, {}], name="Old", initial=1))
    assert [t.user_id for t in policy.levels.get().targets.all()] == [responder.pk]
