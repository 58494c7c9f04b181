"""Recovery from backup, as the README says to do it: `pg_dump -Fc` taken while escalations are
pending, `pg_restore` into a fresh database, real workers (subprocesses, with beat, on queues
of their own) pointed at it. Nothing else is done about the pending work: the sweeps find it,
and each pending step fires exactly once (pages reach a local HTTP receiver)."""

import os
import shutil
import subprocess
import time as clock
from collections import Counter
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from oncall.models import EscalationStep, StepStatus
from oncall.notifications.services import contact_method_create
from oncall.services.escalation import escalation_start
from tests.conftest import IN_CI
from tests.incidents.factories import declare

from .conftest import Condition, TargetKind, make_policy, person

pytestmark = [pytest.mark.worker, pytest.mark.postgres]


def _pg_args(db: dict) -> list[str]:
    return ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"] or "postgres"]


def _admin(db: dict):
    return psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"] or "postgres",
                           password=db["PASSWORD"] or None, dbname="postgres", autocommit=True)


@pytest.fixture
def restored_database(require_postgres, tmp_path):
    """A function that dumps the test database now and restores it into a fresh database;
    the database is dropped afterwards."""
    for tool in ("pg_dump", "pg_restore"):
        if not shutil.which(tool):
            if IN_CI:
                pytest.fail(f"{tool} is needed for the backup test")
            pytest.skip(f"{tool} is not installed")
    db = connection.settings_dict
    name = f"{db['NAME']}_restored_{os.getpid()}"[:63]
    env = {**os.environ, "PGPASSWORD": db["PASSWORD"] or ""}
    made = []

    def dump_and_restore() -> str:
        dump = tmp_path / "portal.dump"
        subprocess.run(["pg_dump", "-Fc", *_pg_args(db), "-f", str(dump), db["NAME"]], check=True, env=env, timeout=120)
        with _admin(db) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        subprocess.run(["pg_restore", "--no-owner", *_pg_args(db), "-d", name, str(dump)], check=True, env=env, timeout=120)
        return name

    yield dump_and_restore
    if made:
        with _admin(db) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _restored_url(name: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER'] or 'postgres'}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def test_restored_backup_fires_each_pending_step_exactly_once(worker_process, restored_database, receiver, service, transactional_db):
    people = {n: person(n) for n in ("alice", "bob")}
    for name, user in people.items():
        contact_method_create(user=user, kind="webhook", target=f"{receiver.url}/hooks/{name}", rate_limit_count=1000)
    ladder = make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, people["alice"])]),
                          (6, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, people["bob"])])])
    make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, people["alice"])])], name="Service policy", service=service)

    # 1. Escalations under way: level 1 overdue (its ETA message died with the old broker),
    #    level 2 due a few seconds after the restore.
    started = []
    for i in range(3):
        incident = declare(title=f"Running {i}")
        started.append(escalation_start(incident=incident, policy=ladder, now=timezone.now() - timedelta(seconds=1)))
    # 2. An incident declared just before the backup whose event no subscriber has run yet.
    fresh = declare(title="Declared just before the backup", services=[service])
    pending = EscalationStep.objects.filter(status=StepStatus.PENDING).count()
    assert pending == 6 and not receiver.requests  # no worker here: nothing fired

    name = restored_database()
    # The old database is left as it is (no worker serves it); the restored one gets workers on
    # queues of their own, as a new deployment would: no message from before the backup.
    env = {"DATABASE_URL": _restored_url(name), "PORTAL_TEST_NS": f"restored-{os.getpid()}"}
    worker_process("restored-1", beat=True, env=env)
    worker_process("restored-2", env=env)

    expected = {"/hooks/alice": 3 + 1, "/hooks/bob": 3}
    deadline = clock.monotonic() + 60
    while clock.monotonic() < deadline and sum(expected.values()) > len(receiver.requests):
        clock.sleep(0.2)
    clock.sleep(4)  # time for any double to show up
    got = Counter(r.path for r in receiver.requests)
    assert got == expected, got

    with psycopg.connect(_restored_url(name)) as restored:
        rows = dict(restored.execute("SELECT status, count(*) FROM oncall_escalationstep GROUP BY status").fetchall())
        undone = restored.execute("SELECT count(*) FROM incidents_eventdelivery WHERE status <> 'done'").fetchone()[0]
        fired_fresh = restored.execute(
            "SELECT count(*) FROM oncall_escalationstep s JOIN oncall_escalation e ON e.id = s.escalation_id "
            "WHERE e.incident_id = %s AND s.status = 'fired'", [fresh.pk]).fetchone()[0]
    assert rows == {"fired": 7}, rows
    assert undone == 0 and fired_fresh == 1
    assert EscalationStep.objects.filter(status=StepStatus.PENDING).count() == pending  # the original is untouched
