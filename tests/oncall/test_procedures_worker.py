"""Drills and breach types end to end: declared over real HTTP (the live server, a real token),
paged by a real Celery worker on the configured broker through a real SMTP server.

- A drill pages for real with `[DRILL]` on every message, and its war room; it stays off the
  status page, away from stakeholder lists, and out of the metrics.
- A suspected breach pages the Security and Legal groups through its type's policy, besides
  the service's on-call."""

import requests
from django.apps import apps as django_apps
from django.contrib.auth.models import Group

from delivery.models import Delivery
from incidents.access import api_token_create
from incidents.defaults import seed_defaults, seed_incident_types
from incidents.groups import ADMIN, RESPONDER, ensure_groups
from incidents.models import Incident, IncidentType, Severity
from oncall.models import TypePolicy
from oncall.notifications.services import contact_method_create, subscription_create
from tests.conftest import wait_for
from tests.incidents.factories import ServiceFactory

from .conftest import Condition, TargetKind, make_policy, person


def _setup():
    seed_defaults(django_apps)  # a flush by an earlier transactional test removed the seeded rows
    seed_incident_types(django_apps)
    ensure_groups()
    service = ServiceFactory(name="Checkout", slug="checkout")
    people = {name: person(name) for name in ("alice", "bob", "carol", "lead")}
    for user in people.values():
        user.groups.add(Group.objects.get(name=RESPONDER))
        contact_method_create(user=user, kind="email", target=user.email, rate_limit_count=1000)
    people["lead"].groups.add(Group.objects.get(name=ADMIN))
    make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, people["alice"])])], name="Checkout on call", service=service)
    _token, key = api_token_create(user=people["lead"])
    return service, people, {"Authorization": f"Token {key}"}


def _mails_to(smtp, address):
    return [m for m in smtp.inbox if address in m.recipients]


def test_a_drill_pages_for_real_marked_drill_and_stays_out_of_status_page_stakeholders_and_metrics(
        celery_worker, live_server, smtp_server):
    service, people, auth = _setup()
    Severity.objects.filter(key="P2").update(war_room_pattern="https://meet.example.com/{slug}", war_room_auto=True)
    subscription_create(name="Executives", kind="email", target="execs@example.com", frequency="realtime")
    api = live_server.url + "/api/v1"

    response = requests.post(f"{api}/incidents/", json={"title": "Game day: checkout database failover", "type": "drill",
                                                        "services": ["checkout"]}, headers=auth, timeout=10)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["is_drill"] is True and body["severity"] == "P2" and body["war_room_url"].startswith("https://meet.example.com/inc-")

    page = wait_for(lambda: _mails_to(smtp_server, "alice@example.com"), 30, "the drill's page to alice")[0]
    subject, text = page.message["Subject"], page.part("text/plain")
    assert "[DRILL]" in subject and "Game day" in subject
    assert "[DRILL] This is a drill" in text and f"War room: {body['war_room_url']}" in text

    # never public: the public update is refused, the status page's JSON does not know it
    number = body["id"]
    refused = requests.post(f"{api}/incidents/{number}/updates/", json={"body": "We are failing over", "visibility": "public"},
                            headers=auth, timeout=10)
    assert refused.status_code == 400 and "status page" in refused.text
    incidents_json = requests.get(live_server.url + "/status/api/v2/incidents.json", timeout=10).json()
    assert all("Game day" not in i["name"] for i in incidents_json["incidents"])

    # resolved, then measured: not in the metrics, on the drills page with its targets
    assert requests.post(f"{api}/incidents/{number}/resolve/", json={"summary": "Failover took 4 min; runbook step 3 is stale"},
                         headers=auth, timeout=10).status_code == 200
    metrics = requests.get(f"{api}/metrics/", headers=auth, timeout=10).json()
    assert metrics["incidents"] == 0 and metrics["resolved"] == 0
    drills = requests.get(live_server.url + "/drills/", cookies=_login_cookies(live_server, "lead"), timeout=10).text
    row = drills.split(number, 1)[1].split("</tr>", 1)[0]
    assert "runbook step 3 is stale" in row and "Lead" in row  # resolving it acknowledged it
    assert "target 1 h" in row  # P2's acknowledge target, met

    # nothing reached the stakeholder list, and the gauge of open incidents never counted it
    assert not Delivery.objects.filter(purpose="stakeholders").exists()
    assert not _mails_to(smtp_server, "execs@example.com")
    assert 'portal_incidents_open{severity="P2"}' not in requests.get(live_server.url + "/metrics", timeout=10).text
    assert Incident.objects.get(number=number).is_drill


def test_a_breach_pages_security_and_legal_through_its_type(celery_worker, live_server, smtp_server):
    service, people, auth = _setup()
    security, legal = (Group.objects.get_or_create(name=name)[0] for name in ("Security", "Legal"))  # the seeded breach type's groups
    people["bob"].groups.add(security)
    people["carol"].groups.add(legal)
    policy = make_policy([(0, Condition.NOT_RESOLVED, [(TargetKind.GROUP, security), (TargetKind.GROUP, legal)])],
                         name="Security and Legal")
    TypePolicy.objects.create(incident_type=IncidentType.objects.get(key="security"), policy=policy)

    response = requests.post(live_server.url + "/api/v1/incidents/", json={
        "title": "Customer records on a paste site", "type": "security", "services": ["checkout"]}, headers=auth, timeout=10)
    assert response.status_code == 201, response.text
    for address in ("alice@example.com", "bob@example.com", "carol@example.com"):
        mail = wait_for(lambda a=address: _mails_to(smtp_server, a), 30, f"the page to {address}")[0]
        assert "Customer records" in mail.message["Subject"] and "[DRILL]" not in mail.message["Subject"]
    assert not _mails_to(smtp_server, "lead@example.com")


def _login_cookies(live_server, username):
    session = requests.Session()
    login = session.get(live_server.url + "/accounts/login/", timeout=10)
    token = login.cookies.get("csrftoken") or session.cookies.get("csrftoken")
    session.post(live_server.url + "/accounts/login/", data={"username": username, "password": "pw-123456",
                                                              "csrfmiddlewaretoken": token},
                 headers={"Referer": live_server.url + "/accounts/login/"}, timeout=10)
    return session.cookies
