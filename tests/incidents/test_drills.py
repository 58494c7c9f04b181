"""Drills: a type flag fixed on the incident when declared. Marked [DRILL] in every message
composer's title and body, refused on the status page, left out of the metrics and the gauges,
measured on a drills page of their own."""

from datetime import date, timedelta

import pytest
from django.test import Client

from delivery.models import Delivery
from incidents import outgoing, services
from incidents.exceptions import InvalidInput
from incidents.models import IncidentType, TimelineEvent, Visibility
from incidents.statuspage import handlers as statuspage_handlers
from incidents.statuspage import services as statuspage
from incidents.statuspage.models import PublicIncident
from incidents.statuspage.selectors import public_incidents
from oncall.notifications import subscriptions
from oncall.notifications.services import subscription_create
from postmortems import reports

from .factories import declare

pytestmark = pytest.mark.django_db


def _drill(by=None, **kw):
    return services.incident_declare(title="Game day", incident_type=IncidentType.objects.get(key="drill"), by=by, **kw)


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_drill_flag_is_fixed_when_declared(responder):
    drill = _drill(by=responder)
    assert drill.is_drill and not drill.may_be_public
    IncidentType.objects.filter(key="drill").update(is_drill=False)  # editing the type later moves nothing
    drill.refresh_from_db()
    assert drill.is_drill


def test_every_composer_marks_a_drill(responder):
    drill = _drill(by=responder)
    assert outgoing.title(drill, "[P2] INC-1 x") == "[DRILL] [P2] INC-1 x"
    assert outgoing.title(drill, outgoing.title(drill, "x")) == "[DRILL] x"  # once
    assert outgoing.body_lines(drill)[0].startswith("[DRILL]")
    real = declare(by=responder)
    assert outgoing.title(real, "x") == "x" and outgoing.body_lines(real) == []


def test_a_drill_never_goes_on_the_status_page(responder):
    drill = _drill(by=responder)
    with pytest.raises(InvalidInput, match="drill"):
        statuspage.incident_publish_update(incident=drill, body="Investigating", by=responder)
    with pytest.raises(InvalidInput):
        services.incident_post_update(incident=drill, body="x", visibility=Visibility.PUBLIC, by=responder)
    with pytest.raises(InvalidInput):
        statuspage.public_incident_ensure(drill)
    services.incident_resolve(incident=drill, by=responder)
    statuspage_handlers.on_incident_event(TimelineEvent.objects.filter(incident=drill, kind="resolved").get())
    assert not PublicIncident.objects.exists()
    internal = services.incident_post_update(incident=drill, body="internal is fine", by=responder)
    assert internal.visibility == Visibility.INTERNAL


def test_a_type_kept_off_the_page_is_hidden_even_if_published_before(responder, monkeypatch):
    incident = declare(by=responder)
    statuspage.incident_publish_update(incident=incident, body="Investigating", by=responder)
    assert public_incidents().count() == 1
    with pytest.raises(InvalidInput, match="status page"):  # a restricted type: take it off the page first
        services.incident_change_type(incident=incident, incident_type=IncidentType.objects.get(key="security"), by=responder)
    internal_only = IncidentType.objects.create(key="vendor-legal", name="Vendor legal matter", public=False)
    services.incident_change_type(incident=incident, incident_type=internal_only, by=responder)
    assert public_incidents().count() == 0
    bumped = []
    monkeypatch.setattr(statuspage_handlers.cache, "bump_on_commit", lambda: bumped.append(1))
    statuspage_handlers.on_incident_event(TimelineEvent.objects.get(incident=incident, kind="type_changed"))
    assert bumped  # the cached public page drops it now, not at the next change
    assert "Checkout is down" not in Client().get("/status/api/v2/incidents.json").content.decode()


def test_a_drill_reaches_no_stakeholder_list(responder):
    subscription_create(name="Execs", kind="email", target="execs@example.com", frequency="realtime")
    subscription_create(name="Digest", kind="email", target="digest@example.com", frequency="hourly")
    drill = _drill(by=responder)
    assert subscriptions.on_incident_event(TimelineEvent.objects.get(incident=drill, kind="declared")) == []
    real = declare(by=responder)
    assert len(subscriptions.on_incident_event(TimelineEvent.objects.get(incident=real, kind="declared"))) == 2
    assert not Delivery.objects.filter(incident=drill, purpose="stakeholders").exists()


def test_a_stakeholder_list_that_chose_drills_hears_about_them_marked(responder, admin_api):
    subscription_create(name="Execs", kind="email", target="execs@example.com", frequency="realtime")
    created = admin_api.post("/api/v1/stakeholder-subscriptions/", {
        "name": "Game-day observers", "kind": "email", "target": "observers@example.com", "frequency": "realtime",
        "include_drills": True}, format="json")
    assert created.status_code == 201, created.content
    assert created.data["include_drills"] is True
    drill = _drill(by=responder)
    rows = subscriptions.on_incident_event(TimelineEvent.objects.get(incident=drill, kind="declared"))
    assert [row.target for row in rows] == ["observers@example.com"]
    assert rows[0].message["title"].startswith("[DRILL] ")


def test_drills_are_left_out_of_the_metrics_and_the_dashboard_count(responder, viewer):
    declare(by=responder, title="Real one")
    _drill(by=responder)
    report = reports.compute(reports.DateRange(date.today() - timedelta(days=1), date.today() + timedelta(days=1)), viewer=None)
    assert report.total == 1
    html = _client(viewer).get("/").content.decode()
    assert "1 open incident" in html and "1 drill running" in html and ">DRILL</span>" in html
    body = _client(viewer).get("/metrics").content.decode()
    assert 'portal_incidents_open{severity="P1"} 1' in body and 'severity="P2"' not in body.split("portal_incidents_open")[-1][:200]


def test_the_drills_page_measures_against_the_severity_targets(responder, viewer):
    drill = _drill(by=responder, commander=responder)
    services.incident_acknowledge(incident=drill, by=responder)
    services.incident_resolve(incident=drill, summary="Paging worked; the runbook link was dead", by=responder)
    declare(by=responder, title="Real incident")
    html = _client(viewer).get("/drills/").content.decode()
    assert drill.number in html and "Real incident" not in html
    row = html.split(drill.number, 1)[1].split("</tr>", 1)[0]
    assert "target 1 h: met" in row and "Responder" in row and "the runbook link was dead" in row
    page = _client(responder).get(drill.get_absolute_url()).content.decode()
    assert "drill-banner" in page and "Post publicly" not in page


def test_declare_a_drill_from_the_drills_page_presets_the_type(responder):
    client = _client(responder)
    assert "/incidents/new/?type=drill" in client.get("/drills/").content.decode()
    form = client.get("/incidents/new/?type=drill").context["form"]
    assert form.initial["type"] == IncidentType.objects.get(key="drill")
    assert client.get("/incidents/new/?type=%00nope").status_code == 200
