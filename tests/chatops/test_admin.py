"""Workspace setup in the admin: through the chat core's services, secrets never shown back,
and a "test connection" action that calls the chat with the bot token."""

import pytest
from django.contrib.admin.models import LogEntry

from chatops.models import Workspace

pytestmark = pytest.mark.django_db


def test_secrets_are_write_only_and_kept_when_left_empty(client, admin_user, fake_chat):
    client.force_login(admin_user)
    data = {"kind": "slack", "name": "Acme", "team_id": "T0001", "api_url": fake_chat.url + "/api/", "bot_token": "xoxb-secret-1",
            "signing_secret": "sign-secret-1", "command_token": "", "alerts_channel": "C1", "channel_severities": "P0,P1",
            "channel_pattern": "inc-{date}-{seq}-{slug}", "archive_after_minutes": "60", "is_active": "on"}
    assert client.post("/admin/chatops/workspace/add/", data).status_code == 302
    workspace = Workspace.objects.get()
    assert (workspace.bot_token, workspace.signing_secret) == ("xoxb-secret-1", "sign-secret-1")
    page = client.get(f"/admin/chatops/workspace/{workspace.pk}/change/").content.decode()
    assert "xoxb-secret-1" not in page and "sign-secret-1" not in page
    assert client.post(f"/admin/chatops/workspace/{workspace.pk}/change/",
                       {**data, "name": "Acme Inc", "bot_token": "", "signing_secret": ""}).status_code == 302
    workspace.refresh_from_db()
    assert (workspace.name, workspace.bot_token, workspace.signing_secret) == ("Acme Inc", "xoxb-secret-1", "sign-secret-1")
    assert LogEntry.objects.filter(object_id=str(workspace.pk), user=admin_user).count() == 2
    missing = client.post("/admin/chatops/workspace/add/", {**data, "team_id": "T0002", "signing_secret": ""})
    assert missing.status_code == 200 and "signing secret" in missing.content.decode()


def test_test_connection_calls_the_chat(client, admin_user, slack_ws, mm_ws, fake_chat):
    client.force_login(admin_user)
    response = client.post("/admin/chatops/workspace/", {"action": "test_connection", "_selected_action": [slack_ws.pk, mm_ws.pk]},
                           follow=True)
    text = response.content.decode()
    assert "connected as portalbot in Acme" in text and "connected as portalbot." in text
    assert len(fake_chat.named("auth.test")) == 1 and len(fake_chat.named("GET /users/me")) == 1
    assert {c[3]["Authorization"] for c in fake_chat.calls} == {"Bearer xoxb-test", "Bearer mm-bot"}
    fake_chat.fail["auth.test"] = [(200, {"ok": False, "error": "invalid_auth"}, {})]
    response = client.post("/admin/chatops/workspace/", {"action": "test_connection", "_selected_action": [slack_ws.pk]}, follow=True)
    assert "failed: Slack auth.test: invalid_auth" in response.content.decode()
