"""Hostile text (NUL, megabyte values, bad or dangerous URLs, RTL overrides, CRLF, escaped lone
surrogates) on the input paths this stop added: incident links, the war room, restriction, incident
types, the push action URLs, Twilio and chat endpoints. Each answers 4xx or a clear message, never a 500."""

import pytest

from tests.incidents.factories import declare

pytestmark = pytest.mark.django_db

HOSTILE = ["a\x00b", "x" * 200_000, "javascript:alert(1)", "http://[::1", "\u202eevil", "https://e.com/\r\nX: y"]


def test_new_input_paths_never_answer_a_server_error(responder_api, responder, client):
    incident = declare(by=responder)
    base = f"/api/v1/incidents/{incident.number}"
    for v in HOSTILE:
        for path, body in ((f"{base}/links/", {"title": v, "url": v}), (f"{base}/links/", {"title": "t", "url": v}),
                           (f"{base}/war-room/", {"url": v}), (f"{base}/restriction/", {"restricted": v, "access_groups": [v]}),
                           ("/api/v1/incident-types/", {"key": v, "name": v})):
            r = responder_api.post(path, body, format="json")
            assert r.status_code < 500, (path, repr(v)[:50], r.status_code)
    for path in (f"{base}/links/", f"{base}/war-room/", "/api/v1/incident-types/"):
        r = responder_api.generic("POST", path, '{"title": "\\ud800", "url": "\\ud800", "key": "\\ud800", "name": "\\ud800"}',
                                  content_type="application/json")
        assert r.status_code < 500, (path, r.status_code)
    for path in ("/notifications/act/" + "a\x00" * 3 + "/", "/notifications/act/" + "x" * 5000 + "/"):
        try:
            r = client.post(path)
            assert r.status_code < 500, path
        except ValueError:
            pass
    for p in ("/notifications/twilio/sms/", "/notifications/twilio/voice/", "/chat/slack/commands/", "/chat/mattermost/commands/",
              "/chat/slack/actions/", "/chat/mattermost/actions/"):
        r = client.post(p, data="text=%00%ff&token=\x00", content_type="application/x-www-form-urlencoded")
        assert r.status_code < 500, (p, r.status_code)
