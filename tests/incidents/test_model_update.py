"""`model_update`: the one field-by-field update the services use."""

import pytest

from incidents.exceptions import InvalidInput
from incidents.model_update import model_update
from incidents.models import Service, Severity

from .factories import ServiceFactory

pytestmark = pytest.mark.django_db


def test_it_saves_only_what_changed_and_says_what(django_assert_num_queries):
    service = ServiceFactory(name="Billing", slug="billing", team="")
    with django_assert_num_queries(1):  # validation without unique fields changed, then one UPDATE
        changes = model_update(instance=service, fields=("name", "team", "description"),
                               data={"team": "payments", "description": service.description})
    assert changes and changes.fields == ("team",) and "description" not in changes
    assert changes.describe() == "Changed team."
    assert Service.objects.get(pk=service.pk).team == "payments"


def test_nothing_changed_is_falsy_and_touches_nothing(django_assert_num_queries):
    service = ServiceFactory(name="Billing", slug="billing")
    with django_assert_num_queries(0):
        changes = model_update(instance=service, fields=("name",), data={"name": "Billing"})
    assert not changes and changes.describe() == ""


def test_a_field_the_service_does_not_offer_is_refused():
    service = ServiceFactory(name="Billing", slug="billing")
    with pytest.raises(InvalidInput) as refused:
        model_update(instance=service, fields=("name",), data={"archived_at": None, "name": "X"})
    assert refused.value.field == "archived_at"
    assert Service.objects.get(pk=service.pk).name == "Billing"


def test_validation_errors_name_their_field():
    ServiceFactory(name="Search", slug="search")
    service = ServiceFactory(name="Billing", slug="billing")
    with pytest.raises(InvalidInput) as taken:
        model_update(instance=service, fields=("slug",), data={"slug": "search"})
    assert taken.value.field == "slug"
    with pytest.raises(InvalidInput) as colour:
        model_update(instance=Severity.objects.get(key="P1"), fields=("colour",), data={"colour": "red"})
    assert colour.value.field == "colour"


def test_many_to_many_fields_are_compared_as_sets_and_set_after_the_save(sev):
    from incidents.integrations.models import Runbook

    runbook = Runbook.objects.create(identifier="RB-1", title="t", steps="s")
    a, b = ServiceFactory(name="A", slug="a"), ServiceFactory(name="B", slug="b")
    assert model_update(instance=runbook, fields=("services",), data={"services": [a, b]}).fields == ("services",)
    assert not model_update(instance=runbook, fields=("services",), data={"services": [b, a]})
    assert set(runbook.services.all()) == {a, b}
