"""The Redis broker transport, with one fix that keeps workers alive when Redis restarts.

The bug (kombu 5.7.0 with celery 5.7.0, the newest releases; the same AttributeError was
reported as celery/kombu#582): when the broker connection drops, the worker's consumer calls
`Connection.collect()` and then `Connection.close()`
(`celery.worker.consumer.Consumer.on_connection_error_after_connected`). `collect()` detaches
the transport from its connection (`transport.client = None`) even when closing the channel
failed half-way (the channel was waiting in BRPOP on the dead socket for more work while a
pool process held a message). `close()` then closes
that channel again; closing restores the unacknowledged messages (acks-late tasks still
running), which needs a new Redis connection pool, whose parameters are read from
`transport.client.hostname`: `AttributeError: 'NoneType' object has no attribute 'hostname'`.
The consumer only tolerates connection errors there, so the worker stops with "Unrecoverable
error". The same happens when a task finishes later and acknowledges on the old channel.

No setting avoids it (broker_connection_retry, worker_cancel_long_running_tasks_on_connection_loss
and the transport options all act after it), and no release fixes it. The fix: a channel
remembers the connection that opened it and re-attaches it to its transport when building a
pool after the detach, so the restore and a late acknowledgement meet Redis (or a connection
error that the consumer handles by reconnecting) instead of None.

Selected by `CELERY_BROKER_TRANSPORT = "config.broker:Transport"` when the broker is a
redis:// URL (config/settings/base.py). A rediss:// (TLS) broker keeps kombu's transport:
kombu turns TLS on by that scheme name, which a transport given by path would lose. Tested with a real worker and a Redis restart in
tests/config/test_broker_restart.py.
"""

from kombu.transport import redis


class Channel(redis.Channel):
    def __init__(self, connection, *args, **kwargs):
        # connection is the transport; its client is the kombu Connection that opened us.
        self._opened_by = connection.client
        super().__init__(connection, *args, **kwargs)

    def _connparams(self, asynchronous=False):
        if self.connection.client is None and self._opened_by is not None:
            self.connection.client = self._opened_by
        return super()._connparams(asynchronous=asynchronous)


class Transport(redis.Transport):
    Channel = Channel
