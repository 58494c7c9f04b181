"""The Django cache on Redis, failing soft: when Redis cannot be reached (restarting, down), a
read is a miss and a write is skipped, with a warning in the log, instead of an exception that
turns a page, an ingest or a commit hook into a 500. The cache only ever holds what can be
rebuilt (rendered status pages, their version key, rate-limit counters), so running without it
for a while is slower, never wrong. `incr` still raises: its callers (rate limits) decide."""

import functools
import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
_last_warning = 0.0


def _warn(operation: str, exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 10:  # one line per 10 s during an outage, not one per request
        _last_warning = now
        logger.warning("cache unreachable (%s: %s); carrying on without it", operation, exc)


def _fail_soft(name: str, fallback):
    """RedisCache.<name>, answering fallback(*args, **kwargs) when Redis is unreachable."""
    method = getattr(RedisCache, name)

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except UNREACHABLE as exc:
            _warn(name, exc)
            return fallback(*args, **kwargs)

    return wrapper


class FailSoftRedisCache(RedisCache):
    get = _fail_soft("get", lambda key, default=None, version=None: default)
    get_many = _fail_soft("get_many", lambda *_a, **_k: {})
    has_key = _fail_soft("has_key", lambda *_a, **_k: False)
    set = _fail_soft("set", lambda *_a, **_k: None)
    add = _fail_soft("add", lambda *_a, **_k: False)
    set_many = _fail_soft("set_many", lambda data, *_a, **_k: list(data))  # the keys not stored
    touch = _fail_soft("touch", lambda *_a, **_k: False)
    delete = _fail_soft("delete", lambda *_a, **_k: False)
    delete_many = _fail_soft("delete_many", lambda *_a, **_k: None)
