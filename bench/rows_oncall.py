"""On-call rows.

oncall_lookup_500_schedules_s: who is on call now for 500 schedules of 3 layers with
overrides (the rules compiled from the database in six queries, then computed); the median
of 7 timed runs after one warm-up.

escalation_lateness_p50_s / _p99_s: 1,000 escalations running at once, their steps due over
a 20-second window; a real Celery worker (subprocess, with beat for the sweeps) fires them and
the notifications go out as webhooks to a local HTTP receiver. Lateness = the notification's
sent_at minus the step's due time.

Two worker processes (ONCALL_BENCH_WORKERS), each a threads pool of 8 (ONCALL_BENCH_POOL /
ONCALL_BENCH_CONCURRENCY); the first runs beat. One alone: `python -m bench.rows_oncall worker <queue> 0`."""

import os
import random
import signal
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from datetime import time as dtime

from bench.common import Receiver, Row, percentile
from bench.db import fresh_database

N_SCHEDULES = 500
N_ESCALATIONS = 1000
WINDOW_S = 20.0
LEAD_S = 150.0  # every escalation is started (and its ETA task queued) before the first step is due


def _people(n):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    User.objects.bulk_create([User(username=f"oc{i}", first_name=f"Person{i}") for i in range(n)])
    return list(User.objects.filter(username__startswith="oc").order_by("pk"))


def oncall_lookup(args) -> list[Row]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from oncall import selectors
    from oncall.services.schedules import LayerSpec, RestrictionSpec, override_create, schedule_create

    fresh_database()
    rng = random.Random(7)
    people = _people(60)
    zones = ["America/New_York", "Europe/Berlin", "UTC", "Asia/Tokyo", "America/Los_Angeles"]
    now = timezone.now()
    for i in range(N_SCHEDULES):
        crew = rng.sample(people, 6)
        start = date(2026, 1, 5) + timedelta(days=rng.randint(0, 30))
        schedule = schedule_create(name=f"Schedule {i}", time_zone=zones[i % len(zones)], layers=[
            LayerSpec(name="Primary", starts_on=start, participants=[(u, 1) for u in crew[:3]], handoff_time=dtime(9),
                      restrictions=[RestrictionSpec([0, 1, 2, 3, 4], dtime(8), dtime(20))]),
            LayerSpec(name="Secondary", starts_on=start, rotation="daily", participants=[(crew[3], 4), (crew[4], 3)]),
            LayerSpec(name="Nights", starts_on=start, rotation="hours", every=12, weekdays_only=False,
                      participants=[(crew[5], 1), (None, 1)]),
        ])
        override_create(schedule=schedule, user=crew[0], start=now - timedelta(hours=1), end=now + timedelta(hours=rng.randint(1, 48)))
        override_create(schedule=schedule, user=crew[1], replaces=crew[2], start=now + timedelta(days=2), end=now + timedelta(days=3))
    selectors.oncall_at()  # warm-up
    timings = []
    with CaptureQueriesContext(connection) as queries:
        selectors.oncall_at()
    for _ in range(7):
        started = time.perf_counter()
        answer = selectors.oncall_at()
        timings.append(time.perf_counter() - started)
    assert len(answer) == N_SCHEDULES and sum(v is not None for v in answer.values()) == N_SCHEDULES
    print(f"  oncall lookup: {len(queries.captured_queries)} queries; runs {', '.join(f'{t * 1000:.1f}' for t in timings)} ms",
          file=sys.stderr)
    return [Row("oncall_lookup_500_schedules_s", statistics.median(timings), "s", "< 0.05")]


def use_queues(queue: str) -> None:
    """This run's queues: `queue` for the default one and `queue`-paging for the pager's, in this
    process and (through the environment) in the workers and web servers it starts."""
    from django.conf import settings

    from config.celery import app

    os.environ["BENCH_CELERY_QUEUE"] = queue  # config/settings/bench.py
    app.conf.task_default_queue = queue
    settings.PAGING_QUEUE = f"{queue}-paging"


def _start_worker(queue: str, index: int) -> subprocess.Popen:
    from django.conf import settings

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.bench")}
    log = open(settings.VAR_DIR / f"bench-oncall-worker-{index}.log", "w")  # noqa: SIM115
    return subprocess.Popen([sys.executable, "-m", "bench.rows_oncall", "worker", queue, str(index)], env=env, stdout=log, stderr=subprocess.STDOUT,
                            cwd=str(settings.BASE_DIR), start_new_session=True)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process, from /proc (0 where there is no /proc)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def escalation_lateness(args) -> list[Row]:
    from django.utils import timezone

    from delivery.models import Delivery
    from incidents.models import Incident, Severity
    from oncall.models import Condition, EscalationLevel, EscalationPolicy, EscalationStep, EscalationTarget, TargetKind
    from oncall.notifications.services import contact_method_create
    from oncall.services.escalation import escalation_start

    fresh_database()
    queue = f"bench-oncall-{os.getpid()}"
    use_queues(queue)
    receiver = Receiver()
    people = _people(50)
    policies = []
    for user in people:
        contact_method_create(user=user, kind="webhook", target=f"{receiver.url}/{user.username}", rate_limit_count=1000)
        policy = EscalationPolicy.objects.create(name=f"Page {user.username}")
        level = EscalationLevel.objects.create(policy=policy, position=0, delay_seconds=0, condition=Condition.NOT_ACKNOWLEDGED)
        EscalationTarget.objects.create(level=level, kind=TargetKind.USER, user=user)
        policies.append(policy)
    severity = Severity.objects.get(key="P1")
    now = timezone.now()
    incidents = Incident.objects.bulk_create([
        Incident(number=f"INC-BENCH-{i:05d}", title=f"Bench {i}", severity=severity, declared_at=now, started_at=now)
        for i in range(N_ESCALATIONS)])
    # One worker process per core (the work is Python-bound; threads share one core); the
    # first also runs beat for the sweeps.
    workers = [_start_worker(queue, i) for i in range(int(os.environ.get("ONCALL_BENCH_WORKERS", "2")))]
    try:
        time.sleep(4)  # worker start-up
        rng = random.Random(3)
        created_at = time.monotonic()
        base = timezone.now() + timedelta(seconds=LEAD_S)
        for i, incident in enumerate(incidents):
            escalation_start(incident=incident, policy=policies[i % len(policies)], now=base + timedelta(seconds=rng.uniform(0, WINDOW_S)))
        setup = time.monotonic() - created_at
        print(f"  started {N_ESCALATIONS} escalations in {setup:.1f} s", file=sys.stderr)
        deadline = time.monotonic() + LEAD_S + WINDOW_S + 60
        while time.monotonic() < deadline:
            sent = Delivery.objects.filter(sent_at__isnull=False, dedup_key__startswith="esc:").count()
            if sent >= N_ESCALATIONS:
                break
            time.sleep(0.5)
        steps = {s.escalation_id: s.due_at for s in EscalationStep.objects.all()}
        fired = [(s.fired_at - s.due_at).total_seconds() for s in EscalationStep.objects.filter(fired_at__isnull=False)]
        lateness = []
        for key, sent_at in Delivery.objects.filter(sent_at__isnull=False, dedup_key__startswith="esc:").values_list("dedup_key", "sent_at"):
            escalation_id = int(key.split(":")[1])
            lateness.append((sent_at - steps[escalation_id]).total_seconds())
        missing = N_ESCALATIONS - len(lateness)
        print(f"  {len(lateness)} notifications sent, {missing} missing, receiver got {receiver.count}; "
              f"max lateness {max(lateness, default=float('nan')):.3f} s", file=sys.stderr)
        cpu = sum(_cpu_seconds(worker.pid) for worker in workers)
        print(f"  the workers used {cpu:.1f} CPU-s ({cpu / N_ESCALATIONS * 1000:.1f} ms per escalation, start-up and "
              f"idle polling included); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", file=sys.stderr)
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
        receiver.close()
    if missing:
        lateness += [float("inf")] * missing
    return [Row("escalation_lateness_p50_s", percentile(lateness, 50), "s", "informational"),
            Row("escalation_lateness_p99_s", percentile(lateness, 99), "s", "< 1"),
            # The engine's part alone: due time to the step fired (notification rows written).
            Row("escalation_fire_lateness_p99_s", percentile(fired, 99), "s", "informational")]


ROWS = {"oncall_lookup_500_schedules_s": oncall_lookup, "escalation_lateness": escalation_lateness}


def _worker_main(queue: str, index: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    from django.conf import settings

    from config.celery import app

    use_queues(queue)

    pool = os.environ.get("ONCALL_BENCH_POOL", "threads")
    concurrency = os.environ.get("ONCALL_BENCH_CONCURRENCY", "8")
    argv = ["worker", "-P", pool, "-c", concurrency, "-l", "WARNING", "-Q", f"{queue},{settings.PAGING_QUEUE}", "-n", f"{queue}-{index}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat"]
    if index == 0:
        argv += ["-B", "-s", str(settings.VAR_DIR / f"beat-{queue}")]
    app.worker_main(argv)


if __name__ == "__main__" and len(sys.argv) > 3 and sys.argv[1] == "worker":
    _worker_main(sys.argv[2], int(sys.argv[3]))
