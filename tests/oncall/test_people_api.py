"""People through the API: admins provision (list, invite, update, deactivate; never delete),
everyone reads and edits their own profile. Every change is audited."""

import json

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client
from django.urls import reverse

from delivery import outbox
from incidents.groups import RESPONDER, VIEWER
from oncall.notifications import services as notify

User = get_user_model()


def test_admin_lists_people_with_groups_and_contact_method_state(admin_api, responder, viewer, django_assert_max_num_queries):
    notify.contact_method_create(user=responder, kind="email", target="r@example.com")
    off = notify.contact_method_create(user=responder, kind="email", target="r2@example.com")
    notify.contact_method_update(method=off, is_active=False)
    with django_assert_max_num_queries(12):
        response = admin_api.get("/api/v1/users/")
    assert response.status_code == 200
    rows = {row["username"]: row for row in response.json()["results"]}
    assert rows["responder"]["groups"] == [RESPONDER]
    assert rows["responder"]["contact_methods"]["count"] == 2
    assert rows["responder"]["contact_methods"]["active"] == 1
    assert rows["responder"]["contact_methods"]["last_failure"] is None
    assert rows["viewer"]["contact_methods"]["count"] == 0
    assert "password" not in response.content.decode()


def test_viewers_and_responders_cannot_list_or_provision(viewer_api, responder_api):
    assert viewer_api.get("/api/v1/users/").status_code == 403
    assert responder_api.post("/api/v1/users/", {"username": "x", "email": "x@example.com"}, format="json").status_code == 403


def test_invite_makes_an_account_without_password_and_mails_a_set_password_link(admin_api, admin_user, django_capture_on_commit_callbacks):
    ensure = Group.objects.get(name=VIEWER)
    with outbox.send_inline(), django_capture_on_commit_callbacks(execute=True):  # sent right after commit
        response = admin_api.post("/api/v1/users/", {
            "username": "newbie", "email": "newbie@example.com", "first_name": "New", "last_name": "Person",
            "groups": [VIEWER], "time_zone": "Europe/Berlin",
        }, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert "password" not in body
    user = User.objects.get(username="newbie")
    assert not user.has_usable_password()
    assert list(user.groups.all()) == [ensure]
    assert user.oncall_profile.time_zone == "Europe/Berlin"
    assert LogEntry.objects.filter(user=admin_user, object_id=str(user.pk), action_flag=1).exists()
    # The invitation goes out through the delivery layer as an email with a set-password link.
    assert len(mail.outbox) == 1
    message = mail.outbox[-1]
    assert message.to == ["newbie@example.com"]
    link = next(word for word in message.body.split() if "/accounts/reset/" in word)
    path = link.split("://", 1)[1].split("/", 1)[1]
    client = Client()
    page = client.get("/" + path, follow=True)
    assert page.status_code == 200
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else "/" + path
    done = client.post(form_url, {"new_password1": "a-Long-new-pass-42", "new_password2": "a-Long-new-pass-42"})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-Long-new-pass-42")


def test_invite_validates_time_zone_and_duplicate_username(admin_api, responder):
    bad = admin_api.post("/api/v1/users/", {"username": "tz", "email": "tz@example.com", "time_zone": "Mars/Olympus"}, format="json")
    assert bad.status_code == 400
    dup = admin_api.post("/api/v1/users/", {"username": "responder", "email": "y@example.com"}, format="json")
    assert dup.status_code == 400


def test_admin_updates_groups_and_deactivates_but_never_deletes(admin_api, admin_user, responder):
    response = admin_api.patch(f"/api/v1/users/{responder.pk}/", {"groups": [VIEWER], "first_name": "Rae"}, format="json")
    assert response.status_code == 200, response.content
    responder.refresh_from_db()
    assert [g.name for g in responder.groups.all()] == [VIEWER] and responder.first_name == "Rae"
    assert LogEntry.objects.filter(user=admin_user, object_id=str(responder.pk), action_flag=2).exists()

    deleted = admin_api.delete(f"/api/v1/users/{responder.pk}/")
    assert deleted.status_code == 405
    assert "deactivate" in deleted.json()["message"]
    assert User.objects.filter(pk=responder.pk).exists()

    assert admin_api.post(f"/api/v1/users/{responder.pk}/deactivate/").status_code == 200
    responder.refresh_from_db()
    assert not responder.is_active
    assert LogEntry.objects.filter(user=admin_user, object_id=str(responder.pk), change_message__icontains="deactivated").exists()
    # PATCH is_active=true brings them back.
    assert admin_api.patch(f"/api/v1/users/{responder.pk}/", {"is_active": True}, format="json").json()["is_active"] is True


def test_an_admin_group_member_cannot_change_a_superuser(api_for, admin_user):
    from tests.conftest import _user

    configurer = _user("configurer", "Admin", is_staff=True)
    response = api_for(configurer).post(f"/api/v1/users/{admin_user.pk}/deactivate/")
    assert response.status_code in (403, 409)
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_everyone_reads_and_edits_their_own_profile(api_for, viewer, outsider):
    for person in (viewer, outsider):
        api = api_for(person)
        me = api.get("/api/v1/users/me/")
        assert me.status_code == 200
        assert me.json()["username"] == person.username
        changed = api.patch("/api/v1/users/me/", {"first_name": "Vee", "time_zone": "Asia/Tokyo"}, format="json")
        assert changed.status_code == 200, changed.content
        person.refresh_from_db()
        assert person.first_name == "Vee" and person.oncall_profile.time_zone == "Asia/Tokyo"
        # Nobody raises their own rights through their profile.
        api.patch("/api/v1/users/me/", {"groups": ["Admin"], "is_active": False, "username": "root"}, format="json")
        person.refresh_from_db()
        assert not person.groups.filter(name="Admin").exists() and person.is_active and person.username != "root"
    assert api_for(viewer).patch("/api/v1/users/me/", {"time_zone": "Nowhere/Land"}, format="json").status_code == 400
    assert LogEntry.objects.filter(user=viewer, object_id=str(viewer.pk), action_flag=2).exists()


def test_the_admin_refuses_to_delete_people(admin_user, responder):
    client = Client()
    client.force_login(admin_user)
    page = client.get(reverse("admin:auth_user_change", args=[responder.pk]))
    assert page.status_code == 200
    assert "deactivate" in page.content.decode().lower()
    assert client.get(reverse("admin:auth_user_delete", args=[responder.pk])).status_code == 403
    client.post(reverse("admin:auth_user_changelist"), {"action": "delete_selected", "_selected_action": [responder.pk], "post": "yes"})
    assert User.objects.filter(pk=responder.pk).exists()


HOSTILE = ["Ro\x00b", "\ud800x", "a\r\nBcc: evil@example.com", "x" * 100_000, "\u202egnp.exe", "<script>alert(1)</script>"]


def _send(method, url, body):
    """As a client sends it: JSON with non-ASCII escaped (a lone surrogate arrives as \\ud800)."""
    return method(url, data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_text_in_the_people_api_is_refused_or_stored_clean(admin_api, api_for, viewer, value):
    """Names, usernames, emails and time zones from the API: a 4xx naming the field, or a row
    PostgreSQL accepts (no NUL, no lone surrogate), never a 500."""
    invited = _send(admin_api.post, "/api/v1/users/", {"username": value, "email": f"{value}@example.com", "first_name": value, "time_zone": value})
    assert invited.status_code == 400, invited.content
    ok_name = _send(admin_api.post, "/api/v1/users/", {"username": "hostile", "email": "h@example.com", "first_name": value})
    assert ok_name.status_code in (201, 400), ok_name.content
    if ok_name.status_code == 201:
        stored = get_user_model().objects.get(username="hostile").first_name
        assert "\x00" not in stored and not any("\ud800" <= ch <= "\udfff" for ch in stored)
    me = _send(api_for(viewer).patch, "/api/v1/users/me/", {"last_name": value, "time_zone": value})
    assert me.status_code == 400, me.content
