"""Nothing internal ever reaches the public: unique secrets planted in every internal field must
not appear in any public response, feed, JSON document, email or webhook payload."""

import json
import secrets
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from incidents import services as core
from incidents.models import Maintenance, Role, Severity
from incidents.statuspage import services
from incidents.statuspage.models import StatusComponent, Subscriber
from tests.incidents.factories import ServiceFactory

from .conftest import deliver_all, run_worker_events, subscriber_messages

pytestmark = pytest.mark.django_db


class Secrets:
    def __init__(self):
        self.planted = {}

    def __call__(self, where: str) -> str:
        value = f"SECRET{secrets.token_hex(6).upper()}"
        self.planted[value] = where
        return value


def _public_paths(client):
    paths = ["/status/", "/status/history/", "/status/feed.atom", "/status/feed.rss", "/status/subscribe/", "/status/nope/"]
    paths += [f"/status/api/v2/{p}" for p in (
        "summary.json", "status.json", "components.json", "incidents.json", "incidents/unresolved.json",
        "scheduled-maintenances.json", "scheduled-maintenances/upcoming.json", "scheduled-maintenances/active.json",
    )]
    summary = json.loads(client.get("/status/api/v2/incidents.json").content)
    paths += [f"/status/incidents/{i['id']}/" for i in summary["incidents"]]
    maint = json.loads(client.get("/status/api/v2/scheduled-maintenances.json").content)
    paths += [f"/status/maintenances/{m['id']}/" for m in maint["scheduled_maintenances"]]
    return paths


def test_no_internal_field_reaches_any_public_response(client, page, smtp_server, http_receiver):
    secret = Secrets()
    url, received = http_receiver
    User = get_user_model()
    people = [
        User.objects.create_user(secret("username"), secret("user email") + "@corp.test", "pw", first_name=secret("first name"),
                                 last_name=secret("last name"))
        for _ in range(4)
    ]
    commander, comms, responder, author = people
    severity = Severity.objects.create(key="S9", label=secret("severity label"), rank=42, description=secret("severity description"))
    service = ServiceFactory(name=secret("service name"), slug="svc-secret", description=secret("service description"),
                             team=secret("team"), runbook_url=f"https://runbooks.test/{secret('runbook url')}")
    component = services.component_save(component=StatusComponent(service=service, name="Public API", description="Our API.", degrade_on_alert=True))
    Subscriber.objects.create(kind="email", email=secret("other subscriber") + "@example.com", confirmed_at=timezone.now())
    Subscriber.objects.create(kind="webhook", endpoint=url, confirmed_at=timezone.now())

    inc = core.incident_declare(
        title=secret("internal title"), severity=severity, by=author, summary=secret("summary"), impact=secret("impact"),
        services=[service], detection_source="alert", commander=commander, actor_label=secret("actor label"),
        data={"alert": {"fingerprint": secret("alert fingerprint"), "labels": {"host": secret("alert host")}}},
    )
    core.incident_assign_role(incident=inc, role=Role.COMMS_LEAD, user=comms, by=commander)
    core.incident_add_responder(incident=inc, user=responder, by=commander)
    core.incident_add_note(incident=inc, body=secret("note"), by=responder)
    core.incident_post_update(incident=inc, body=secret("internal update"), visibility="internal", by=responder)
    core.incident_change_status(incident=inc, status="identified", by=commander, message=secret("status change message"))
    core.timeline_record(incident=inc, kind="escalation.notified", message=secret("escalation message"), data={"target": secret("escalation target")})
    services.incident_publish_update(incident=inc, body="We are looking into errors on the API.", by=comms, name="API errors",
                                     components={component: "partial_outage"})
    core.incident_post_update(incident=inc, body="A fix is being deployed.", visibility="public", by=comms)
    core.incident_resolve(incident=inc, by=commander, summary=secret("resolution summary"), root_cause_tag=secret("root cause").lower())
    core.timeline_record(incident=inc, kind="postmortem.published", message=secret("postmortem message"),
                         data={"public_summary": "A configuration change caused errors.", "internal": secret("postmortem internal")})

    hidden = core.incident_declare(title=secret("unpublished title"), severity=severity, by=author, summary=secret("unpublished summary"),
                                   services=[service])
    core.incident_post_update(incident=hidden, body=secret("unpublished internal update"), visibility="internal", by=author)
    now = timezone.now()
    private = services.maintenance_save(title=secret("private maintenance"), description=secret("private maintenance text"),
                                        services=[service], scheduled_for=now + timedelta(days=1), scheduled_until=now + timedelta(days=1, hours=1),
                                        public=False, by=author)
    services.maintenance_save(title="Public window", description="Planned work.", services=[service],
                              scheduled_for=now + timedelta(days=2), scheduled_until=now + timedelta(days=2, hours=1), by=author)
    run_worker_events()
    deliver_all()

    public_texts = {}
    for path in _public_paths(client):
        response = client.get(path)
        assert response.status_code in (200, 404), path
        public_texts[path] = response.content.decode()
    for m in smtp_server.messages:  # each goes to its own subscriber: the To header is theirs
        parts = [m["Subject"], m["List-Unsubscribe"]] + [m.get_body(preferencelist=(k,)).get_content() for k in ("plain", "html")]
        public_texts[f"email {m['Subject']} to {m['To'][:6]}"] = "\n".join(parts)
    for r in received:
        public_texts[f"webhook {r['path']}"] = json.dumps(r["body"])
    for n in subscriber_messages():
        public_texts[f"notification {n.dedup_key}"] = n.target + json.dumps(n.message)

    # The scan sees real content: the public facts are there.
    everything = "\n".join(public_texts.values())
    assert "API errors" in everything and "A fix is being deployed." in everything
    assert "A configuration change caused errors." in everything and "Public window" in everything
    assert smtp_server.messages and received

    leaks = [(where, path) for path, text in public_texts.items() for value, where in secret.planted.items() if value in text or value.lower() in text]
    assert not leaks, leaks
    for forbidden in (inc.number, hidden.number, private.title):
        assert forbidden not in everything
    assert Maintenance.objects.filter(pk=private.pk).exists()
