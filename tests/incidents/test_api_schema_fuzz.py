"""Schemathesis over the whole API, from the portal's own OpenAPI schema (`/api/schema/`): every
operation, with generated valid and invalid input, as an admin with a real token (so write
endpoints run their serializers and services). No request may answer 5xx.

Driven operation by operation with `APIOperation.as_strategy` (positive and negative input)
rather than `@schema.parametrize()`, whose pytest plugin does not run under pytest 9 yet.
In process through the WSGI application on the test database (transactional, so each request
commits as in production); the example count is modest so CI runs it in a minute or two.
Raise FUZZ_EXAMPLES to search harder."""

import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from incidents.access import api_token_create
from incidents.statuspage.models import StatusComponent
from oncall.models import Override
from tests.incidents.factories import ServiceFactory
from tests.oncall.conftest import make_schedule, person

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))


@pytest.fixture
def admin_token(admin_user) -> str:
    _token, key = api_token_create(user=admin_user)
    return key


@pytest.fixture
def api_schema(transactional_db, admin_token):
    # Something to find: ids 1.. exist, so generated ids reach real rows now and then.
    service = ServiceFactory(name="Checkout", slug="checkout")
    StatusComponent.objects.get_or_create(service=service, defaults={"name": "Checkout"})
    schedule = make_schedule("Primary", [person("alice"), person("bob")])
    assert schedule.pk and not Override.objects.exists()
    return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), headers={"Authorization": f"Token {admin_token}"})


def test_no_api_operation_answers_a_server_error(api_schema, admin_token):
    headers = {"Authorization": f"Token {admin_token}"}
    failures, operations = [], 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def run(case):
                case.call_and_validate(headers=headers, checks=[not_a_server_error])

            try:
                run()
            except Unsatisfiable:  # no invalid value exists for, say, a path parameter that takes any string
                continue
            except Exception as exc:  # collect them all: one report names every failing operation
                failures.append(f"{operation.label} ({mode}): {str(exc)[:600]}")
    assert operations > 40
    assert not failures, "\n\n".join(failures)
