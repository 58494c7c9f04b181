"""Worker pieces that make paging resume within seconds of a broker outage.

- `PortalConsumer` reconnects to the broker every second while it is away (kombu's default
  backs off to one attempt every 30 s, so a worker could sit idle half a minute after Redis
  came back).
- `KickSweepsOnConnect` runs each time the consumer has (re)connected: it sends the sweeps in
  `SWEEPS_ON_CONNECT` at once and again a few seconds later (past their grace periods), so what
  was written while the broker was away (outbox rows, escalation steps, notifications) moves now
  rather than at the next beat tick. Sweeps claim rows with SKIP LOCKED, so several workers doing
  this at once split the work.
"""

import functools
import logging

from celery import bootsteps
from celery.worker.consumer import Consumer
from django.conf import settings

logger = logging.getLogger(__name__)


class PortalConsumer(Consumer):
    def ensure_connected(self, conn):
        conn.ensure_connection = functools.partial(
            conn.ensure_connection, interval_start=0, interval_step=settings.WORKER_RECONNECT_SECONDS,
            interval_max=settings.WORKER_RECONNECT_SECONDS)
        return super().ensure_connected(conn)


class KickSweepsOnConnect(bootsteps.StartStopStep):
    requires = {"celery.worker.consumer.tasks:Tasks"}
    AGAIN_AFTER_SECONDS = 6

    def start(self, c):
        for countdown in (0, self.AGAIN_AFTER_SECONDS):
            for name in settings.SWEEPS_ON_CONNECT:
                try:
                    c.app.send_task(name, countdown=countdown)
                except Exception as exc:  # the broker went away again: the next connect kicks them
                    logger.warning("could not kick %s after connecting (%s)", name, exc)
                    return
        logger.info("connected to the broker: kicked %s", ", ".join(settings.SWEEPS_ON_CONNECT))
