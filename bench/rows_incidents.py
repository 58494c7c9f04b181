"""incident_list_queries: queries for one page of /api/v1/incidents/ over 100,000 incidents."""

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from bench.common import Row
from bench.db import fresh_database
from incidents.access import api_token_create
from incidents.models import Incident, IncidentMember, Role, Service, Severity

N = 100_000


def seed_incidents(n: int = N) -> None:
    """Bulk-create n incidents over a year, with services and commanders."""
    User = get_user_model()
    users = [User.objects.create_user(f"bench{i}", first_name=f"Bench{i}") for i in range(20)]
    services = [Service.objects.create(name=f"Service {i}", slug=f"svc-{i}") for i in range(30)]
    severities = list(Severity.objects.all())
    rng = random.Random(42)
    now = timezone.now()
    batch = 5_000
    for start in range(0, n, batch):
        rows = []
        for i in range(start, min(start + batch, n)):
            declared = now - timedelta(minutes=rng.randint(10, 365 * 24 * 60))
            resolved = rng.random() < 0.97
            rows.append(Incident(
                number=f"INC-BENCH-{i:06d}", title=f"Bench incident {i}", severity=rng.choice(severities),
                status="resolved" if resolved else "investigating", detection_source=rng.choice(["alert", "customer", "staff", "monitoring"]),
                declared_at=declared, started_at=declared - timedelta(minutes=rng.randint(0, 30)),
                acknowledged_at=declared + timedelta(minutes=rng.randint(1, 20)),
                resolved_at=declared + timedelta(minutes=rng.randint(20, 600)) if resolved else None,
            ))
        created = Incident.objects.bulk_create(rows)
        Through = Incident.services.through
        Through.objects.bulk_create([Through(incident_id=inc.pk, service_id=rng.choice(services).pk) for inc in created])
        IncidentMember.objects.bulk_create([IncidentMember(incident=inc, user=rng.choice(users), role=Role.COMMANDER) for inc in created])


def incident_list_queries(args) -> list[Row]:
    fresh_database()
    seed_incidents()
    user = get_user_model().objects.create_superuser("bench-admin", "b@example.com", "x")
    _token, key = api_token_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    client.get("/api/v1/incidents/")  # warm up (token last-used stamp, caches)
    counts = []
    for params in ({}, {"page": 200}, {"status": "investigating"}, {"severity": "P1", "page": 3}):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/v1/incidents/", params)
        assert response.status_code == 200, response.content[:300]
        counts.append(len(ctx.captured_queries))
    return [Row("incident_list_queries", max(counts), "queries", "constant, <= 10")]


ROWS = {"incident_list_queries": incident_list_queries}
