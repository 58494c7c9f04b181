"""The public documents: Statuspage JSON against its field lists, feeds, caching and 304s, 404s."""

import json
from datetime import timedelta

import feedparser
import pytest
from django.utils import timezone
from django.utils.http import http_date

from incidents import services as core
from incidents.statuspage import services
from incidents.statuspage.cache import bump
from incidents.statuspage.models import ComponentStatusPeriod
from tests.incidents.factories import declare

from .conftest import run_worker_events

pytestmark = pytest.mark.django_db

PAGE_FIELDS = {"id", "name", "url", "time_zone", "updated_at"}
COMPONENT_FIELDS = {"id", "name", "status", "created_at", "updated_at", "position", "description", "showcase", "start_date",
                    "group_id", "page_id", "group", "only_show_if_degraded"}
INCIDENT_FIELDS = {"id", "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at", "impact", "shortlink",
                   "started_at", "page_id", "incident_updates", "components"}
UPDATE_FIELDS = {"id", "status", "body", "incident_id", "created_at", "updated_at", "display_at", "affected_components",
                 "deliver_notifications", "custom_tweet", "tweet_id"}
MAINTENANCE_FIELDS = INCIDENT_FIELDS | {"scheduled_for", "scheduled_until"}
COMPONENT_STATES = {"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"}
API = "/status/api/v2/"


@pytest.fixture
def world(components, responder):
    """An open incident on api, a resolved one on web, an unpublished one, an upcoming and an active window."""
    api, web = components["api"], components["web"]
    open_inc = declare("API errors", by=responder)
    services.incident_publish_update(incident=open_inc, body="We are **investigating**.", by=responder, components={api: "partial_outage"})
    services.incident_publish_update(incident=open_inc, body="A fix is rolling out.", by=responder, status="monitoring")
    old = declare("Website down", by=responder)
    services.incident_publish_update(incident=old, body="Website unreachable.", by=responder, components={web: "major_outage"})
    services.incident_publish_update(incident=old, body="Resolved.", by=responder, status="resolved")
    hidden = declare("Unpublished thing", by=responder)
    now = timezone.now()
    upcoming = services.maintenance_save(title="Disk swap", services=[components["db"].service], scheduled_for=now + timedelta(days=1),
                                         scheduled_until=now + timedelta(days=1, hours=2), by=responder)
    active = services.maintenance_save(title="Router upgrade", services=[web.service], scheduled_for=now - timedelta(minutes=5),
                                       scheduled_until=now + timedelta(hours=1), by=responder)
    services.maintenance_step(maintenance=active)
    return {"open": open_inc, "old": old, "hidden": hidden, "upcoming": upcoming, "active": active}


def _get(client, path, **headers):
    response = client.get(path, **headers)
    assert response.status_code == 200, (path, response.status_code)
    assert response["Access-Control-Allow-Origin"] == "*"
    return json.loads(response.content)


def test_summary_matches_statuspage_v2(client, world, components):
    doc = _get(client, API + "summary.json")
    assert set(doc) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    assert set(doc["page"]) == PAGE_FIELDS
    assert doc["status"] == {"indicator": "major", "description": "Partial System Outage"}
    group = next(c for c in doc["components"] if c["group"])
    assert set(group) == COMPONENT_FIELDS | {"components"}
    assert sorted(group["components"]) == sorted([components["api"].code, components["db"].code])
    for c in doc["components"]:
        assert set(c) >= COMPONENT_FIELDS and c["status"] in COMPONENT_STATES and c["page_id"] == doc["page"]["id"]
        if not c["group"]:
            assert set(c) == COMPONENT_FIELDS
    api = next(c for c in doc["components"] if c["id"] == components["api"].code)
    assert api["group_id"] == group["id"] and api["status"] == "partial_outage"
    web = next(c for c in doc["components"] if c["id"] == components["web"].code)
    assert web["status"] == "under_maintenance" and web["group_id"] is None

    [incident] = doc["incidents"]  # unresolved only, unpublished never
    assert set(incident) == INCIDENT_FIELDS
    assert incident["name"] == "API errors" and incident["status"] == "monitoring" and incident["impact"] == "major"
    assert incident["monitoring_at"] and incident["resolved_at"] is None
    assert incident["shortlink"].endswith(f"/status/incidents/{incident['id']}")
    assert [u["status"] for u in incident["incident_updates"]] == ["monitoring", "investigating"]  # newest first
    for u in incident["incident_updates"]:
        assert set(u) == UPDATE_FIELDS and u["incident_id"] == incident["id"]
    first = incident["incident_updates"][-1]
    assert first["body"] == "We are **investigating**."
    assert first["affected_components"] == [{"code": components["api"].code, "name": "API", "old_status": "operational", "new_status": "partial_outage"}]
    assert [c["id"] for c in incident["components"]] == [components["api"].code]

    names = {m["name"]: m for m in doc["scheduled_maintenances"]}
    assert set(names) == {"Disk swap", "Router upgrade"}
    for m in names.values():
        assert set(m) == MAINTENANCE_FIELDS and m["impact"] == "maintenance"
    assert names["Router upgrade"]["status"] == "in_progress" and names["Disk swap"]["status"] == "scheduled"
    assert [u["status"] for u in names["Router upgrade"]["incident_updates"]] == ["in_progress", "scheduled"]


def test_every_document_has_its_keys(client, world):
    assert set(_get(client, API + "status.json")) == {"page", "status"}
    assert set(_get(client, API + "components.json")) == {"page", "components"}
    incidents = _get(client, API + "incidents.json")["incidents"]
    assert [i["name"] for i in incidents] == ["API errors", "Website down"] or {i["name"] for i in incidents} == {"API errors", "Website down"}
    resolved = next(i for i in incidents if i["name"] == "Website down")
    assert resolved["status"] == "resolved" and resolved["resolved_at"] and resolved["impact"] == "critical"
    assert [i["name"] for i in _get(client, API + "incidents/unresolved.json")["incidents"]] == ["API errors"]
    assert len(_get(client, API + "scheduled-maintenances.json")["scheduled_maintenances"]) == 2
    assert [m["name"] for m in _get(client, API + "scheduled-maintenances/upcoming.json")["scheduled_maintenances"]] == ["Disk swap"]
    assert [m["name"] for m in _get(client, API + "scheduled-maintenances/active.json")["scheduled_maintenances"]] == ["Router upgrade"]


def test_cors_preflight_and_read_only(client, world):
    response = client.options(API + "summary.json", HTTP_ORIGIN="https://widget.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert response.status_code == 204 and response["Access-Control-Allow-Origin"] == "*"
    assert client.post(API + "summary.json").status_code in (403, 405)


def test_all_operational_indicator(client, components):
    assert _get(client, API + "status.json")["status"] == {"indicator": "none", "description": "All Systems Operational"}


@pytest.mark.parametrize("path", ["feed.atom", "feed.rss"])
def test_feeds_parse_and_list_published_incidents_only(client, world, path):
    response = client.get(f"/status/{path}")
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "Acme status: incident history"
    titles = [e.title for e in feed.entries]
    assert sorted(titles) == ["API errors (Monitoring)", "Website down (Resolved)"]
    entry = next(e for e in feed.entries if e.title.startswith("API errors"))
    assert "A fix is rolling out." in entry.summary and "<strong>investigating</strong>" in entry.summary
    assert entry.link.startswith("http://testserver/status/incidents/")


def test_pages_render_the_open_incident_bars_and_maintenance(client, world, components):
    html = client.get("/status/").content.decode()
    assert "Partial System Outage" in html and "API errors" in html and "A fix is rolling out." in html
    assert "Router upgrade" in html and "Disk swap" in html
    assert html.count('class="sp-bar ') == 90 * 3
    assert "Unpublished thing" not in html
    pub = world["old"].public
    page = client.get(f"/status/incidents/{pub.code}/").content.decode()
    assert "Website down" in page and "Resolved." in page and "Website" in page and "Duration" in page
    history = client.get("/status/history/").content.decode()
    assert "Website down" in history and f"/status/incidents/{pub.code}/" in history
    m = world["upcoming"].statuspage.code
    assert "Disk swap" in client.get(f"/status/maintenances/{m}/").content.decode()


def test_bar_tooltip_lists_the_days_incidents(client, world, components):
    inc = world["old"]
    ComponentStatusPeriod.objects.filter(component=components["web"]).update(started_at=inc.started_at)
    html = client.get("/status/").content.decode()
    assert '<span class="sp-tip-inc">Website down</span>' in html
    assert 'tabindex="0"' in html


@pytest.mark.parametrize("path", ["/status/incidents/nope/", "/status/maintenances/nope/", "/status/no/such/page"])
def test_unknown_ids_give_the_status_pages_own_404(client, page, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Acme status" in response.content.decode() and "sp-header" in response.content.decode()


def test_internal_incident_id_is_not_a_permalink(client, world):
    assert client.get(f"/status/incidents/{world['hidden'].number}/").status_code == 404
    assert client.get(f"/status/incidents/{world['open'].number}/").status_code == 404


# --- caching ----------------------------------------------------------------------------------

PATHS = ["/status/", API + "summary.json", API + "incidents.json", "/status/feed.atom"]


@pytest.mark.parametrize("path", PATHS)
def test_constant_queries_on_a_miss_and_none_on_a_hit(client, world, components, responder, django_assert_max_num_queries,
                                                      django_assert_num_queries, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert client.get(path).status_code == 200
    with django_assert_num_queries(0):
        assert client.get(path).status_code == 200
    for i in range(5):  # more of everything
        inc = declare(f"More {i}", by=responder)
        services.incident_publish_update(incident=inc, body=f"Update {i}", by=responder, components={components["db"]: "degraded_performance"})
        services.incident_publish_update(incident=inc, body=f"Again {i}", by=responder, status="identified")
    bump()  # the next request is a miss
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(path).status_code == 200
    assert len(small.captured_queries) <= 15


def test_etag_and_last_modified_give_304_and_cache_headers(client, world):
    first = client.get("/status/")
    assert "public" in first["Cache-Control"] and "max-age=" in first["Cache-Control"]
    etag = first["ETag"]
    again = client.get("/status/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert client.get("/status/", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    assert client.get("/status/", HTTP_IF_MODIFIED_SINCE=http_date(0)).status_code == 200
    assert client.get("/status/", HTTP_IF_NONE_MATCH='"other"').status_code == 200
    js = client.get(API + "summary.json")
    assert client.get(API + "summary.json", HTTP_IF_NONE_MATCH=js["ETag"]).status_code == 304


def test_publishing_invalidates_page_and_json(client, world, components, responder, django_capture_on_commit_callbacks):
    before = client.get(API + "summary.json")
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_publish_update(incident=world["open"], body="All fixed now.", by=responder, status="resolved")
    after = client.get(API + "summary.json", HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and json.loads(after.content)["incidents"] == []
    assert "All fixed now." in client.get("/status/feed.atom").content.decode()


def test_worker_side_event_invalidates_the_cache(client, components, responder, django_capture_on_commit_callbacks):
    inc = declare("Slow pages", by=responder)
    core.incident_post_update(incident=inc, body="Public words.", visibility="public", by=responder)
    assert "Slow pages" not in client.get("/status/").content.decode()  # cached before the worker ran
    with django_capture_on_commit_callbacks(execute=True):
        run_worker_events()
    assert "Slow pages" in client.get("/status/").content.decode()


def test_gzip_for_clients_that_accept_it(client, world):
    import gzip

    plain = client.get("/status/")
    packed = client.get("/status/", HTTP_ACCEPT_ENCODING="gzip, br")
    assert packed["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain
    assert gzip.decompress(packed.content) == plain.content
    assert packed["ETag"] != plain["ETag"] and "Accept-Encoding" in packed["Vary"]
    assert client.get("/status/", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=packed["ETag"]).status_code == 304


def test_update_markdown_is_sanitised(client, components, responder):
    inc = declare("XSS attempt", by=responder)
    services.incident_publish_update(incident=inc, body='Hi <script>alert(1)</script> <img src=x onerror="alert(2)"> [x](javascript:alert(3)) **ok**',
                                     by=responder)
    html = client.get("/status/").content.decode() + client.get(f"/status/incidents/{inc.public.code}/").content.decode()
    assert "<script>alert(1)" not in html and "onerror" not in html and "javascript:" not in html
    assert "<strong>ok</strong>" in html


def test_hits_are_answered_before_sessions_with_frame_options(client, world, responder):
    client.force_login(responder)
    client.get("/status/")
    hit = client.get("/status/")
    assert hit["X-Frame-Options"] and hit["Content-Length"] == str(len(hit.content))
    assert "sessionid" not in hit.cookies and "csrftoken" not in hit.cookies
    assert "Log out" not in hit.content.decode()  # nothing personal in the public page


def test_random_query_strings_do_not_bypass_the_cache(client, world, django_assert_num_queries):
    client.get("/status/")
    client.get("/status/api/v2/summary.json")
    with django_assert_num_queries(0):
        assert client.get("/status/?cachebuster=123").status_code == 200
        assert client.get("/status/api/v2/summary.json?x=1").status_code == 200
    assert client.get("/status/history/?page=2").status_code == 200
    assert client.get("/status/history/?page=abc").status_code == 200
