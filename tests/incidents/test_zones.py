"""Time zones have one home (incidents.zones): every entry point that takes a zone name from
people accepts and refuses the same names, and the defaults come from there."""

import pytest
from django.core.exceptions import ValidationError

from incidents import zones
from incidents.exceptions import InvalidInput
from incidents.statuspage.models import PageSettings
from oncall.forms import ScheduleForm, TimeZoneForm
from oncall.models import Schedule
from oncall.services.people import profile_update
from oncall.services.schedules import schedule_create, schedule_update

ACCEPTED = ["Europe/Berlin", "America/New_York", "UTC", "Etc/GMT+5", "EST"]
REFUSED = ["", "Mars/Olympus_Mons", "europe/berlin", "../../etc/passwd", "Europe/Berlin\x00", "Europe/Berlin ", "x" * 200, "/etc/localtime"]


@pytest.mark.parametrize("name", ACCEPTED)
def test_every_check_accepts_an_iana_name(name):
    assert zones.is_zone(name)
    zones.check_zone(name)
    zones.validate_zone(name)
    assert zones.zone_or_none(name).key == name
    assert (name, name) in zones.choices()


@pytest.mark.parametrize("name", [*REFUSED, None, 42])
def test_every_check_refuses_the_same_names(name):
    assert not zones.is_zone(name)
    with pytest.raises(InvalidInput) as refused:
        zones.check_zone(name)
    assert refused.value.field == "time_zone"
    with pytest.raises(ValidationError):
        zones.validate_zone(name)
    assert zones.zone_or_none(name) is None


def test_the_picker_offers_exactly_what_the_check_accepts():
    assert {value for value, _label in zones.choices()} == zones.names()


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "ok"), [(n, True) for n in ACCEPTED] + [(n, False) for n in REFUSED[1:4]])
def test_schedules_profiles_the_zone_picker_and_the_status_page_agree(name, ok, responder):
    """Before: the profile service took "EST" while the picker on the person's own page refused it,
    and the status page's zone was not checked at all."""
    answers = {}
    try:
        schedule = schedule_create(name="Ops", time_zone=zones.SCHEDULE_DEFAULT)
        schedule_update(schedule=schedule, name="Ops", time_zone=name)
        answers["schedule service"] = True
    except InvalidInput:
        answers["schedule service"] = False
    try:
        profile_update(person=responder, time_zone=name)
        answers["profile service"] = True
    except InvalidInput:
        answers["profile service"] = False
    answers["profile picker"] = TimeZoneForm({"time_zone": name}).is_valid()
    for label, obj in (("schedule model", Schedule(name="X", time_zone=name)), ("status page", PageSettings(time_zone=name))):
        try:
            obj.full_clean(validate_unique=False)
            answers[label] = True
        except ValidationError as exc:
            assert "time_zone" in exc.message_dict, exc
            answers[label] = False
    assert answers == dict.fromkeys(answers, ok)


def test_defaults_come_from_one_place():
    assert Schedule._meta.get_field("time_zone").default == zones.SCHEDULE_DEFAULT
    assert ScheduleForm().fields["time_zone"].initial == zones.SCHEDULE_DEFAULT
    assert PageSettings._meta.get_field("time_zone").default == zones.STATUS_PAGE_DEFAULT
    assert zones.is_zone(zones.SCHEDULE_DEFAULT) and zones.is_zone(zones.STATUS_PAGE_DEFAULT)


@pytest.mark.django_db
def test_a_schedule_made_through_the_api_without_a_zone_gets_the_default(admin_api):
    response = admin_api.post("/api/v1/schedules/", {"name": "No zone given", "layers": []}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["time_zone"] == zones.SCHEDULE_DEFAULT
