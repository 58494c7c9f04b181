"""On-call fixtures: schedules and policies made through the services, and people with
real contact methods."""

import os
import signal
import subprocess
import sys
from datetime import time, timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone

from incidents.groups import ADMIN
from incidents.models import Severity
from oncall.models import Condition, EscalationLevel, EscalationPolicy, EscalationTarget, LevelMode, ServicePolicy, TargetKind
from oncall.services.schedules import LayerSpec, schedule_create
from tests.incidents.factories import ServiceFactory


def person(username, **kw):
    User = get_user_model()
    return User.objects.create_user(username, f"{username}@example.com", "pw-123456", first_name=username.title(), **kw)


@pytest.fixture
def staff(db):
    """A staff member of the Admin group: may edit schedules, layers and policies."""
    user = person("ops", is_staff=True)
    user.groups.add(Group.objects.get(name=ADMIN))
    return user


@pytest.fixture
def people(db):
    return {name: person(name) for name in ("alice", "bob", "carol", "dave")}


def make_schedule(name, participants, *, tz="UTC", rotation="weekly", starts_on=None, handoff=time(9), **kw):
    starts_on = starts_on or (timezone.localdate() - timedelta(days=21))
    return schedule_create(name=name, time_zone=tz, layers=[
        LayerSpec(name="Primary", starts_on=starts_on, participants=[(u, 1) for u in participants], rotation=rotation,
                  handoff_time=handoff, handoff_weekday=starts_on.weekday(), **kw)])


def make_policy(levels, *, name="Policy", repeat=0, repeat_after=900, service=None):
    """levels: [(delay_seconds, condition, [(kind, obj)], severities, mode)]"""
    policy = EscalationPolicy.objects.create(name=name, repeat=repeat, repeat_after_seconds=repeat_after)
    for pos, spec in enumerate(levels):
        delay, condition, targets = spec[:3]
        severities = spec[3] if len(spec) > 3 else ()
        mode = spec[4] if len(spec) > 4 else LevelMode.ALL
        level = EscalationLevel.objects.create(policy=policy, position=pos, delay_seconds=delay, condition=condition, mode=mode,
                                               round_robin_seconds=60)
        level.severities.set(Severity.objects.filter(key__in=severities))
        for i, (kind, obj) in enumerate(targets):
            EscalationTarget.objects.create(level=level, position=i, kind=kind, **{kind: obj})
    if service is not None:
        ServicePolicy.objects.create(service=service, policy=policy)
    return policy


@pytest.fixture
def service(db):
    return ServiceFactory(name="Checkout", slug="checkout")


__all__ = ["Condition", "TargetKind", "make_policy", "make_schedule", "person"]


# --- real far ends and real workers ----------------------------------------------------

from tests.notifications.conftest import receiver, smtp_server  # noqa: E402, F401, I001  (SMTP and HTTP receivers)


class WorkerProcess:
    """`celery -A config worker` in a subprocess on the test database and queue; can be
    killed with SIGKILL like a crashed machine."""

    def __init__(self, smtp_port: int, beat: bool, tmp_path, name: str, extra_env: dict | None = None,
                 supervised: bool = False):
        db = connection.settings_dict
        if connection.vendor == "postgresql":
            url = f"postgres://{db['USER'] or ''}{':' + db['PASSWORD'] if db['PASSWORD'] else ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        else:
            url = f"sqlite:///{db['NAME']}"
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.oncall.worker_settings", "DATABASE_URL": url,
               "ONCALL_TEST_SMTP_PORT": str(smtp_port), "PYTEST_XDIST_WORKER": os.environ.get("PYTEST_XDIST_WORKER", "main"),
               **(extra_env or {})}
        cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "threads", "-c", "4", "-l", "WARNING",
               "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        if beat:
            cmd += ["-B", "-s", str(tmp_path / f"beat-{name}")]
        if supervised:  # under bin/keep-running, as `make run` runs it: restarted if it dies
            cmd = [str(django_settings.BASE_DIR / "bin" / "keep-running"), *cmd]
        self.supervised = supervised
        self.log_path = tmp_path / f"{name}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=str(django_settings.BASE_DIR))

    def restarts(self) -> int:
        return self.log_path.read_text(errors="replace").count("keep-running:")

    def kill(self):
        assert not self.supervised, "SIGKILL would reach the supervisor, not the worker"
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except Exception:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


@pytest.fixture
def worker_process(tmp_path, smtp_server):  # noqa: F811  (the imported fixture)
    started = []

    def start(name="w1", beat=False, env=None, supervised=False):
        w = WorkerProcess(smtp_server.port, beat, tmp_path, name, env, supervised)
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()
