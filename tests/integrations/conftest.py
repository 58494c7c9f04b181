import pytest
from django.test import Client

from incidents.integrations.services import configuration
from tests.incidents.factories import ServiceFactory


@pytest.fixture
def service(db):
    return ServiceFactory(name="Database", slug="database")


@pytest.fixture
def make_integration(service, sev):
    """make_integration(kind, **config) -> (integration, key)"""

    def make(kind="alertmanager", **config):
        config.setdefault("default_severity", sev("P2"))
        return configuration.integration_create(name=f"{kind} test", service=config.pop("service", service), kind=kind, **config)

    return make


@pytest.fixture
def client_json():
    client = Client()

    def post(url, data=None, raw=None, **extra):
        import json

        body = raw if raw is not None else json.dumps(data)
        return client.post(url, data=body, content_type="application/json", **extra)

    return post



@pytest.fixture
def seeded(transactional_db):
    """Transactional tests flush the seeded severities between tests: put them back."""
    from django.apps import apps

    from incidents.defaults import seed_defaults

    seed_defaults(apps)
