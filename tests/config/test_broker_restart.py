"""Workers survive the broker going away: a real worker (prefork, acks-late, prefetch 1) on a
throwaway redis-server started by the test (never the shared one), holding a message while
Redis restarts or while the worker is stopped with SIGTERM."""

import os
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from celery import Celery

from bench.chaos.servers import Proc, RedisServer, temp_root
from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]
QUEUE = f"broker-restart-{os.environ.get('PORTAL_TEST_NS', 'portal')}-{os.getpid()}"


@pytest.fixture
def broker(tmp_path):
    root = temp_root("portal-broker-test-")
    redis = RedisServer(root)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()
        import shutil

        shutil.rmtree(root, ignore_errors=True)


def start_worker(broker: RedisServer, tmp_path: Path, name: str) -> Proc:
    env = dict(os.environ, REDIS_URL=broker.url, CELERY_BROKER_URL=broker.url, DJANGO_SETTINGS_MODULE="config.settings.test",
               DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}", PYTHONPATH=str(ROOT))
    argv = [sys.executable, "-m", "celery", "-A", "tests.config.slowapp", "worker", "-Q", QUEUE, "-n", f"{name}@%h",
            # Two processes: one holds the message while the consumer waits in BRPOP for more (the
            # state in which kombu 5.7 lost the connection parameters; config/broker.py).
            "--concurrency", "2", "--loglevel", "INFO"]
    worker = Proc(name, argv, tmp_path / f"{name}.log", env=env, cwd=str(ROOT))
    wait_for(lambda: b"ready." in worker.log_path.read_bytes() or not worker.alive(), 30, "the worker to start")
    assert worker.alive(), worker.log_path.read_text()
    return worker


@contextmanager
def running_worker(broker: RedisServer, tmp_path: Path, name: str):
    worker = start_worker(broker, tmp_path, name)
    try:
        yield worker
    finally:
        worker.stop()


def hold(broker: RedisServer, out: Path, tag: str, seconds: float) -> None:
    """Send a task that holds its worker process for `seconds`, and wait until it started."""
    send(broker, out, tag, seconds)
    wait_for(lambda: f"start {tag}" in lines(out), 20, f"task {tag} to start")


def send(broker: RedisServer, out: Path, tag: str, seconds: float) -> None:
    with Celery(broker=broker.url) as producer:
        producer.send_task("tests.config.slowapp.hold", args=[str(out), tag, seconds], queue=QUEUE)


def lines(out: Path) -> list[str]:
    return out.read_text().splitlines() if out.exists() else []


def test_worker_holding_a_message_survives_a_redis_restart_and_processes_it_once(broker, tmp_path):
    out = tmp_path / "out.txt"
    with running_worker(broker, tmp_path, "held") as worker:
        hold(broker, out, "first", 4)
        broker.stop()  # the worker holds the unacknowledged message while Redis is gone
        time.sleep(1.5)
        broker.start()
        wait_for(lambda: "done first" in lines(out), 20, "the held task to finish")
        send(broker, out, "second", 0)  # the worker consumes again on the new connection
        wait_for(lambda: "done second" in lines(out) or not worker.alive(), 30, "the next task")
        time.sleep(2)  # a redelivery of the first message would show by now
        assert worker.alive(), worker.log_path.read_text()[-3000:]
        assert "Unrecoverable error" not in worker.log_path.read_text()
        assert lines(out).count("start first") == 1 and lines(out).count("done second") == 1, lines(out)


def test_worker_stopped_with_sigterm_finishes_what_it_holds(broker, tmp_path):
    out = tmp_path / "out.txt"
    with running_worker(broker, tmp_path, "term") as worker:
        hold(broker, out, "held", 3)
        worker.signal(signal.SIGTERM)  # warm shutdown: finish the task, acknowledge it, exit
        worker.popen.wait(30)
        assert worker.popen.returncode == 0, worker.log_path.read_text()[-3000:]
        assert lines(out) == ["start held", "done held"]
    with running_worker(broker, tmp_path, "successor"):  # nothing was left behind to run again
        send(broker, out, "next", 0)
        wait_for(lambda: "done next" in lines(out), 20, "the successor's task")
        assert lines(out) == ["start held", "done held", "start next", "done next"]


def sweeps_queued(broker: RedisServer, queue: str) -> int:
    import json

    import redis

    client = redis.Redis.from_url(broker.url)
    try:
        messages = [json.loads(raw) for raw in client.lrange(queue, 0, -1)]
    finally:
        client.close()
    return sum(1 for m in messages if m["headers"]["task"] == "incidents.tasks.dispatch_sweep_task")


def test_worker_runs_the_sweeps_each_time_it_connects_to_the_broker(broker, tmp_path, settings):
    """Work written while the broker was down goes out within seconds of its return: the worker
    sends the sweeps when it connects, and again when it reconnects after a Redis restart."""
    queue = settings.CELERY_TASK_DEFAULT_QUEUE  # the sweeps' queue; this worker consumes only its own
    with running_worker(broker, tmp_path, "sweeper") as worker:
        wait_for(lambda: sweeps_queued(broker, queue) >= 1, 10, "the sweeps sent at start-up")
        at_start = sweeps_queued(broker, queue)
        broker.stop()
        time.sleep(1.5)
        broker.start()  # Redis keeps its lists (append-only file), so the count only grows
        wait_for(lambda: sweeps_queued(broker, queue) > at_start, 20, "the sweeps sent after reconnecting")
        assert worker.alive()
