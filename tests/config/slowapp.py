"""The portal's Celery app plus one slow task, for the broker-restart tests: a worker that
holds an unacknowledged message (acks-late, prefetch 1) while the test restarts Redis or stops
the worker. The task appends `start <tag>` and `done <tag>` lines to a file."""

import time

from config.celery import app


@app.task(name="tests.config.slowapp.hold")
def hold(path: str, tag: str, seconds: float) -> None:
    with open(path, "a") as out:
        out.write(f"start {tag}\n")
    time.sleep(seconds)
    with open(path, "a") as out:
        out.write(f"done {tag}\n")
