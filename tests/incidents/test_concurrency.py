"""Incident numbers stay unique and gap-free under concurrent declarations (PostgreSQL)."""

import threading

import pytest
from django.db import connection

from incidents.models import Incident

from .factories import declare

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_declarations_get_unique_consecutive_numbers(require_postgres):
    n = 16
    barrier = threading.Barrier(n)
    errors = []

    def worker(i):
        try:
            barrier.wait(timeout=10)
            declare(title=f"Storm {i}")
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    numbers = sorted(Incident.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == n
    assert [int(x.rsplit("-", 1)[1]) for x in numbers] == list(range(1, n + 1))
