"""Cached public responses, invalidated by bumping one version key.

Every public page and JSON document is stored in Django's cache under the current version; any
public change (an update, a component state, a maintenance step) bumps the version so the next
request renders afresh. The version lives in the shared cache (Redis when configured), since the
worker that runs the event subscribers is another process than the web server.
A hit costs no query, and usually no network either: each process keeps the entries it served
in memory under the version, and re-reads the shared version at most every
STATUSPAGE_VERSION_CHECK_SECONDS (default 1 s; 0 checks on every request), so another
process's change shows within that time and this process's own change at once.
Bodies are stored gzipped too and served so to clients that accept it.
"""

import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.http import http_date, parse_http_date_safe, quote_etag

VERSION_KEY = "statuspage:version"
LOCAL_ENTRIES = 256

_lock = threading.Lock()
_local: OrderedDict[str, tuple[float, "Entry"]] = OrderedDict()
_version: dict[str, tuple[float, str]] = {}
_render_locks: dict[str, threading.Lock] = {}  # cache alias+prefix -> (checked at, version)


def _ttl() -> int:
    return getattr(settings, "STATUSPAGE_CACHE_SECONDS", 60)


def _scope() -> str:
    # Tests switch KEY_PREFIX per test; the process-local copies must follow.
    return str(settings.CACHES["default"].get("KEY_PREFIX", ""))


def current_version() -> str:
    scope = _scope()
    now = time.monotonic()
    memo = _version.get(scope)
    if memo is not None and now - memo[0] < getattr(settings, "STATUSPAGE_VERSION_CHECK_SECONDS", 1.0):
        return memo[1]
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, str(time.time_ns()), None)
        version = cache.get(VERSION_KEY) or str(time.time_ns())
    _version[scope] = (now, version)
    return version


def bump() -> None:
    version = str(time.time_ns())
    cache.set(VERSION_KEY, version, None)
    _version[_scope()] = (time.monotonic(), version)


def bump_on_commit() -> None:
    transaction.on_commit(bump)


@dataclass
class Entry:
    body: bytes
    content_type: str
    status: int
    etag: str
    last_modified: float
    gzipped: bytes | None = None
    cors: bool = False


def _local_get(key: str) -> "Entry | None":
    with _lock:
        item = _local.get(key)
        if item is None:
            return None
        if item[0] < time.monotonic():
            del _local[key]
            return None
        _local.move_to_end(key)
        return item[1]


def _local_put(key: str, entry: "Entry") -> None:
    with _lock:
        _local[key] = (time.monotonic() + _ttl(), entry)
        while len(_local) > LOCAL_ENTRIES:
            _local.popitem(last=False)


def _gzip_etag(etag: str) -> str:
    return etag[:-1] + '-gz"'


def _fresh(request, entry: Entry) -> bool:
    inm = request.META.get("HTTP_IF_NONE_MATCH")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or entry.etag in tags or _gzip_etag(entry.etag) in tags
    ims = parse_http_date_safe(request.META.get("HTTP_IF_MODIFIED_SINCE", ""))
    return ims is not None and int(entry.last_modified) <= ims


def cache_path(request) -> str:
    """The path plus the only parameter any public page reads (history's page number), so random
    query strings cannot bypass the cache."""
    page = request.GET.get("page", "")
    return f"{request.path}?page={page}" if page.isdecimal() and len(page) <= 3 else request.path


def _key(request) -> str:
    return f"statuspage:r:{current_version()}:{cache_path(request)}"


def lookup(request) -> Entry | None:
    """The stored response for this request under the current version, if any (no query)."""
    key = _key(request)
    local_key = f"{_scope()}|{key}"
    entry = _local_get(local_key)
    if entry is None:
        entry = cache.get(key)
        if entry is not None:
            _local_put(local_key, entry)
    return entry


def respond(request, entry: Entry) -> HttpResponse:
    max_age = getattr(settings, "STATUSPAGE_CLIENT_MAX_AGE", 10)
    if entry.status == 200 and _fresh(request, entry):
        response = HttpResponseNotModified()
    elif entry.gzipped is not None and "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", ""):
        response = HttpResponse(entry.gzipped, content_type=entry.content_type, status=entry.status)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(entry.body, content_type=entry.content_type, status=entry.status)
    response["ETag"] = _gzip_etag(entry.etag) if response.get("Content-Encoding") == "gzip" else entry.etag
    response["Last-Modified"] = http_date(entry.last_modified)
    response["Cache-Control"] = f"public, max-age={max_age}, stale-while-revalidate=30, stale-if-error=600"
    response["Vary"] = "Accept-Encoding"
    if response.status_code != 304:
        response["Content-Length"] = str(len(response.content))
    if entry.cors:
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
    return response


def cached_response(request, build: Callable[[], tuple[int, str, bytes]], *, cors: bool = False) -> HttpResponse:
    """Serve `build()` (status, content type, body) from the cache, with validators and 304s."""
    entry = lookup(request)
    if entry is None:
        with _render_lock(cache_path(request)):
            entry = lookup(request)  # another thread may have rendered it meanwhile
            if entry is None:
                entry = _build_and_store(request, build, cors)
    return respond(request, entry)


def _render_lock(path: str) -> threading.Lock:
    """One render per path at a time in this process: a burst after an update waits for it."""
    with _lock:
        return _render_locks.setdefault(path, threading.Lock()) if len(_render_locks) < 1024 else threading.Lock()


def _build_and_store(request, build, cors: bool) -> Entry:
    key = _key(request)  # the version before rendering: a change meanwhile makes this entry stale, never lost
    status, content_type, body = build()
    etag = quote_etag(hashlib.md5(body, usedforsecurity=False).hexdigest())
    packed = gzip.compress(body, compresslevel=6, mtime=0) if len(body) > 1024 else None
    entry = Entry(body, content_type, status, etag, time.time(), packed, cors)
    cache.set(key, entry, _ttl())
    _local_put(f"{_scope()}|{key}", entry)
    return entry


class StatusPageCacheMiddleware:
    """Answers cached public GETs before the session, auth, CSRF and message middleware and the
    URL resolver run (Django's own cache middleware works the same way). Misses go on to the views,
    which store what they render. Put it right after SecurityMiddleware / WhiteNoise."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = "/status/"

    def __call__(self, request):
        if request.method in ("GET", "HEAD") and request.path_info.startswith(self.prefix):
            entry = lookup(request)
            if entry is not None:
                response = respond(request, entry)
                response.setdefault("X-Frame-Options", getattr(settings, "X_FRAME_OPTIONS", "DENY"))
                return response
        return self.get_response(request)
