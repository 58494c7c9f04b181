"""Every input bounded: what people send through the API and the staff pages is refused by
name (400, a form error) or made safe, never a 500 and never a row PostgreSQL refuses."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from incidents.integrations.models import Runbook
from incidents.models import Incident
from incidents.statuspage.models import StatusComponent
from oncall.models import Override
from oncall.services.schedules import override_create
from tests.incidents.factories import ServiceFactory
from tests.integrations.form_data import integration_post
from tests.oncall.conftest import make_schedule, person

pytestmark = pytest.mark.django_db


def deep(levels: int) -> str:
    return '{"a": ' * levels + "1" + "}" * levels


@pytest.mark.parametrize("path", ["/api/v1/incidents/", "/api/v1/runbooks/", "/api/v1/integrations/", "/api/v1/schedules/"])
@pytest.mark.parametrize("levels", [100, 100_000])
def test_deeply_nested_json_to_a_write_endpoint_is_400(admin_api, path, levels):
    response = admin_api.post(path, data=deep(levels), content_type="application/json")
    assert response.status_code == 400, response.content
    assert "nested" in response.json()["message"]


def test_nan_in_an_api_body_is_400(admin_api):
    response = admin_api.post("/api/v1/runbooks/", data='{"identifier": "RB-X-1", "title": "t", "steps": "s", "match_labels": {"a": NaN}}',
                              content_type="application/json")
    assert response.status_code == 400, response.content


def test_nul_and_lone_surrogates_are_stripped_from_api_text(admin_api, sev):
    body = json.dumps({"title": "Checkout\u0000 down \ud800", "severity": "P2", "summary": "a\u0000b"})
    response = admin_api.post("/api/v1/incidents/", data=body, content_type="application/json")
    assert response.status_code == 201, response.content
    incident = Incident.objects.get()
    assert incident.title == "Checkout down \ufffd" and incident.summary == "ab"


@pytest.mark.parametrize("payload", [
    {"match_labels": None},
    {"match_labels": {"alertname": "a\u0000b", "nested": {"x": 1}}},
])
def test_runbook_match_labels_must_be_an_object_of_values(admin_api, payload):
    response = admin_api.post("/api/v1/runbooks/", {"identifier": "RB-DB-9", "title": "t", "steps": "s", **payload}, format="json")
    assert response.status_code == 400, response.content
    assert "match_labels" in response.json()["errors"]
    assert not Runbook.objects.exists()


def test_runbook_match_labels_patched_to_null_is_400(admin_api):
    runbook = Runbook.objects.create(identifier="RB-DB-1", title="t", steps="s")
    response = admin_api.patch(f"/api/v1/runbooks/{runbook.identifier}/", {"match_labels": None}, format="json")
    assert response.status_code == 400, response.content


@pytest.mark.parametrize("name", ["resolved_values", "severity_rules", "group_by", "field_mapping"])
def test_integration_json_fields_patched_to_null_are_400(admin_api, name):
    service = ServiceFactory()
    created = admin_api.post("/api/v1/integrations/", {"name": "n", "service": service.slug, "kind": "webhook"}, format="json")
    response = admin_api.patch(f"/api/v1/integrations/{created.json()['id']}/", {name: None}, format="json")
    assert response.status_code == 400, response.content


@pytest.mark.parametrize("name", ["resolved_values", "severity_rules", "group_by", "field_mapping"])
def test_integration_json_fields_sent_as_null_are_400(admin_api, name):
    service = ServiceFactory()
    response = admin_api.post("/api/v1/integrations/", {"name": "n", "service": service.slug, "kind": "webhook", name: None}, format="json")
    assert response.status_code == 400, response.content
    assert name in response.json()["errors"]


@pytest.mark.parametrize("value", [2**31, 2**63, 10**30, -1])
def test_integers_beyond_their_column_are_400(admin_api, value):
    if value == 2**31 and connection.vendor != "postgresql":
        pytest.skip("a 32-bit column only on PostgreSQL: SQLite's integers have 64 bits")
    service = ServiceFactory()
    response = admin_api.post("/api/v1/integrations/", {"name": "n", "service": service.slug, "kind": "webhook",
                                                        "rate_limit_per_minute": value}, format="json")
    assert response.status_code == 400, response.content
    assert "rate_limit_per_minute" in response.json()["errors"]


@pytest.mark.parametrize("end", ["9999-12-31T23:00:00Z", "0001-01-01T00:00:00Z", "2101-01-01T00:00:00Z"])
def test_api_override_outside_the_calendar_is_400(admin_api, end):
    alice = person("alice")
    schedule = make_schedule("Primary", [alice])
    response = admin_api.post("/api/v1/overrides/", {"schedule": schedule.pk, "user": alice.pk,
                                                     "start": "2026-12-01T00:00:00Z", "end": end}, format="json")
    assert response.status_code == 400, response.content
    assert "end" in response.json()["errors"]


def test_schedule_page_survives_an_override_ending_in_year_9999(admin_user):
    alice, bob = person("alice"), person("bob")
    schedule = make_schedule("Primary", [alice], tz="Pacific/Auckland")  # ahead of UTC: 9999-12-31 is year 10000 there
    # written before the bounds existed (or through the admin shell): the page must still render
    override_create(schedule=schedule, user=bob, start=timezone.now() - timedelta(hours=1),
                    end=datetime(9999, 12, 31, 23, 59, tzinfo=UTC))
    assert Override.objects.count() == 1
    client = Client()
    client.force_login(admin_user)
    response = client.get(f"/oncall/schedules/{schedule.pk}/")
    assert response.status_code == 200
    assert client.get("/oncall/").status_code == 200
    assert client.get("/oncall/my-shifts/").status_code == 200


def test_override_form_refuses_year_9999(admin_user):
    alice = person("alice")
    schedule = make_schedule("Primary", [alice])
    client = Client()
    client.force_login(admin_user)
    response = client.post(f"/oncall/schedules/{schedule.pk}/overrides/new/", {
        "user": alice.pk, "start": "2026-12-01T09:00", "end": "9999-12-31T23:00", "reason": "x"})
    assert response.status_code in (200, 400)
    assert b"between the years" in response.content
    assert not Override.objects.exists()


@pytest.mark.parametrize("components", [["99999999999999999999"], ["-1"], ["1e5"], ["\x00"]])
def test_subscribe_form_with_out_of_range_ids_is_a_form_error(components):
    StatusComponent.objects.create(name="API", service=ServiceFactory())
    client = Client(REMOTE_ADDR=f"198.51.100.{uuid.uuid4().int % 250}")  # the rate limit counts per address
    response = client.post("/status/subscribe/", {"kind": "email", "email": "a@example.com", "components": components})
    assert response.status_code == 400


def test_staff_form_text_loses_nul_characters(admin_user, sev):
    client = Client()
    client.force_login(admin_user)
    response = client.post("/incidents/new/", {"title": "Pay\x00ments down", "severity": sev("P2").pk, "detection_source": "staff",
                                               "impact": "x\x00y"})
    assert response.status_code in (200, 302), response.content[:500]
    assert Incident.objects.get().title == "Payments down"


def test_query_parameters_with_nul_are_harmless(admin_api):
    for path in ("/api/v1/incidents/?search=a%00b", "/api/v1/incidents/?status=%00", "/api/v1/alerts/?fingerprint=%00",
                 "/api/v1/incidents/INC-%00/"):
        response = admin_api.get(path)
        assert response.status_code < 500, (path, response.content)


def _our_subclasses(base) -> list[type]:
    import importlib
    import pkgutil

    for package in ("incidents", "oncall", "postmortems"):
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            if info.name.rsplit(".", 1)[-1] in ("forms", "serializers", "admin", "views"):
                importlib.import_module(info.name)
    found, todo = [], [base]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.split(".")[0] in ("incidents", "oncall", "postmortems"):
                found.append(sub)
    return found


def test_every_form_and_serializer_is_bounded():
    """The generic mechanism only works if nobody forgets it: a new form or serializer that
    does not derive from the bounded bases fails here."""
    import django_filters
    from django import forms
    from rest_framework import serializers

    from incidents.bounded import BoundedFormMixin, BoundedSerializerMixin, PortalFilterSet

    forms_found = _our_subclasses(forms.BaseForm)
    serializers_found = [s for s in _our_subclasses(serializers.BaseSerializer) if not issubclass(s, serializers.ListSerializer)]
    assert len(forms_found) > 20 and len(serializers_found) > 30
    assert [f for f in forms_found if not issubclass(f, BoundedFormMixin)] == []
    assert [s for s in serializers_found if not issubclass(s, BoundedSerializerMixin)] == []
    from django.contrib import admin

    admins = _our_subclasses(admin.options.BaseModelAdmin)
    assert len(admins) > 30 and [a for a in admins if not issubclass(a.form, BoundedFormMixin)] == []
    filtersets = _our_subclasses(django_filters.FilterSet)
    assert len(filtersets) >= 4 and [f for f in filtersets if not issubclass(f, PortalFilterSet)] == []


@pytest.mark.parametrize("query", ["seen_before=0901-01-04T03:59:01%2B22:11", "seen_after=9999-12-31T23:59:59-10:00"])
def test_filters_outside_the_calendar_are_400(admin_api, query):
    response = admin_api.get(f"/api/v1/alerts/?{query}")
    assert response.status_code == 400, response.content


@pytest.mark.parametrize("value", ["99999 days", "P99999999D", "999999999 00:00:00"])
def test_durations_beyond_a_year_are_400(admin_api, value):
    service = ServiceFactory()
    response = admin_api.post("/api/v1/integrations/", {"name": "n", "service": service.slug, "kind": "heartbeat",
                                                        "heartbeat_interval": value}, format="json")
    assert response.status_code == 400, response.content


@pytest.mark.parametrize("fmt", ["multipart", "urlencoded"])
def test_form_encoded_api_bodies_lose_nul_too(admin_api, fmt, sev):
    data = {"title": "Check\x00out down", "severity": "P2"}
    if fmt == "multipart":
        response = admin_api.post("/api/v1/incidents/", data, format="multipart")
    else:
        from urllib.parse import urlencode

        response = admin_api.post("/api/v1/incidents/", urlencode(data), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 201, response.content
    assert Incident.objects.get().title == "Checkout down"


@pytest.mark.parametrize(("total", "status", "says"), [("100000", 400, b"at most 50"), ("many", 400, b"ManagementForm data"), ("-1", 302, b"")])
def test_row_counts_posted_to_a_staff_form_are_bounded(admin_user, sev, total, status, says):
    """The integration form's rule rows: a forged row count is refused, never a 500 or a loop."""
    client = Client()
    client.force_login(admin_user)
    service = ServiceFactory()
    data = integration_post(service=service.pk, kind="webhook", default_severity=sev("P2").pk)
    data["rules-TOTAL_FORMS"] = total
    response = client.post("/integrations/new/", data)
    assert response.status_code == status and says in response.content


def test_nul_in_a_path_typed_into_a_staff_form_is_dropped(admin_user, sev):
    from incidents.integrations.models import Integration

    client = Client()
    client.force_login(admin_user)
    service = ServiceFactory()
    response = client.post("/integrations/new/", integration_post(service=service.pk, kind="webhook", default_severity=sev("P2").pk,
                                                                  mapping={"title": "event.na\x00me"}))
    assert response.status_code in (200, 302), response.content[:300]
    assert Integration.objects.get().field_mapping == {"title": "event.name"}


@pytest.mark.parametrize("at", ["2026-13-45T10:00:00Z", "9999-12-31T23:59:59-10:00", "0001-01-01T00:00:00Z", "2026-02-30T10:00:00+01:00"])
def test_instants_in_query_strings_outside_the_calendar_are_400(admin_api, at):
    schedule = make_schedule("Primary", [person("alice")])
    for path in (f"/api/v1/schedules/oncall/?at={at}", f"/api/v1/schedules/{schedule.pk}/oncall/?at={at}",
                 f"/api/v1/schedules/{schedule.pk}/shifts/?start={at}&end=2026-12-02T00:00:00Z"):
        response = admin_api.get(path.replace("+", "%2B"))
        assert response.status_code == 400, (path, response.content)


def test_odd_digits_in_a_staff_query_string_are_harmless(admin_user):
    client = Client()
    client.force_login(admin_user)
    assert client.get("/notifications/?user=%C2%B2").status_code < 500  # "²" is a digit to str.isdigit()


def test_admin_refuses_an_override_in_year_9999(admin_user):
    alice = person("alice")
    schedule = make_schedule("Primary", [alice])
    client = Client()
    client.force_login(admin_user)
    response = client.post("/admin/oncall/override/add/", {
        "schedule": schedule.pk, "user": alice.pk, "start_0": "2026-12-01", "start_1": "09:00:00",
        "end_0": "9999-12-31", "end_1": "23:00:00", "reason": "x"})
    assert response.status_code == 200
    assert b"between the years" in response.content
    assert not Override.objects.exists()
