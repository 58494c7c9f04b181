"""Password guessing: the login page and the admin login lock a username (and a client address)
out after LOGIN_FAILURE_LIMIT failures; every login, failure and lockout is recorded for admins."""

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

PAGES = ["/accounts/login/", "/admin/login/"]


def _post(client, page, username, password, ip="198.51.100.20", **extra):
    return client.post(page, {"username": username, "password": password, "next": "/"}, REMOTE_ADDR=ip, **extra)


@pytest.mark.parametrize("page", PAGES)
def test_forty_wrong_passwords_then_the_right_one_is_refused(page, admin_user):
    client = Client()
    answers = [_post(client, page, "boss", f"guess-{i}").status_code for i in range(40)]
    assert 429 in answers
    right = _post(client, page, "boss", "pw-123456")
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "Too many failed sign-in attempts" in right.content.decode()
    assert AccessFailureLog.objects.filter(username="boss", locked_out=True).exists()


def test_lockout_by_username_holds_from_another_address(responder, settings):
    for i in range(settings.AXES_FAILURE_LIMIT):
        _post(Client(), "/accounts/login/", "responder", f"bad-{i}", ip=f"203.0.113.{i + 1}")
    assert _post(Client(), "/accounts/login/", "responder", "pw-123456", ip="192.0.2.77").status_code == 429


def test_lockout_by_address_holds_for_other_usernames(responder, settings):
    for i in range(settings.AXES_FAILURE_LIMIT):
        _post(Client(), "/accounts/login/", f"nobody-{i}", "bad", ip="203.0.113.50")
    assert _post(Client(), "/accounts/login/", "responder", "pw-123456", ip="203.0.113.50").status_code == 429
    assert _post(Client(), "/accounts/login/", "responder", "pw-123456", ip="203.0.113.51").status_code == 302


def test_lockout_keys_on_the_client_behind_a_trusted_proxy(responder, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    for i in range(settings.AXES_FAILURE_LIMIT):
        _post(Client(), "/accounts/login/", f"nobody-{i}", "bad", ip="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.60")
    assert AccessAttempt.objects.filter(ip_address="203.0.113.60").exists()
    # another client behind the same proxy is not locked out
    assert _post(Client(), "/accounts/login/", "responder", "pw-123456", ip="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.61").status_code == 302


def test_admin_unlocks_with_the_management_command(responder, settings):
    for i in range(settings.AXES_FAILURE_LIMIT):
        _post(Client(), "/accounts/login/", "responder", f"bad-{i}")
    assert _post(Client(), "/accounts/login/", "responder", "pw-123456").status_code == 429
    call_command("axes_reset_username", "responder")
    call_command("axes_reset_ip", "198.51.100.20")
    assert _post(Client(), "/accounts/login/", "responder", "pw-123456").status_code == 302


def test_logins_and_failures_are_recorded_and_visible_to_admins(responder, admin_user):
    _post(Client(), "/accounts/login/", "responder", "wrong")
    assert _post(Client(), "/accounts/login/", "responder", "pw-123456").status_code == 302
    failure = AccessFailureLog.objects.get(username="responder")
    assert failure.ip_address == "198.51.100.20" and failure.attempt_time
    assert AccessLog.objects.filter(username="responder", ip_address="198.51.100.20").exists()
    admin = Client()
    admin.force_login(admin_user)
    html = admin.get("/admin/axes/accessfailurelog/").content.decode()
    assert "responder" in html and "198.51.100.20" in html
    assert admin.get("/admin/axes/accesslog/").status_code == 200


def test_api_token_auth_is_unaffected_by_a_lockout(responder, responder_api, settings):
    for i in range(settings.AXES_FAILURE_LIMIT + 2):
        _post(Client(), "/accounts/login/", "responder", f"bad-{i}", ip="127.0.0.1")
    assert responder_api.get("/api/v1/incidents/", REMOTE_ADDR="127.0.0.1").status_code == 200


def test_test_client_login_without_a_request_still_works(responder):
    assert Client().login(username="responder", password="pw-123456")


def test_admin_group_reads_login_records_and_unlocks(db):
    from django.contrib.auth.models import Group

    from incidents.groups import ADMIN, ensure_groups

    ensure_groups()
    codes = set(Group.objects.get(name=ADMIN).permissions.filter(content_type__app_label="axes").values_list("codename", flat=True))
    assert {"view_accessfailurelog", "view_accesslog", "delete_accessattempt"} <= codes
