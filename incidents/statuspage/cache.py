"""Cached public responses, invalidated by bumping one version key.

Every public page and JSON document is stored in Django's cache under the current version; any
public change (an update, a component state, a maintenance step) bumps the version so the next
request renders afresh. The version lives in the shared cache (Redis when configured), since the
worker that runs the event subscribers is another process than the web server.
A hit costs two cache reads and no query.
"""

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.http import http_date, parse_http_date_safe, quote_etag

VERSION_KEY = "statuspage:version"


def _ttl() -> int:
    return getattr(settings, "STATUSPAGE_CACHE_SECONDS", 60)


def current_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = str(time.time_ns())
        cache.add(VERSION_KEY, version, None)
        version = cache.get(VERSION_KEY) or version
    return version


def bump() -> None:
    cache.set(VERSION_KEY, str(time.time_ns()), None)


def bump_on_commit() -> None:
    transaction.on_commit(bump)


@dataclass
class Entry:
    body: bytes
    content_type: str
    status: int
    etag: str
    last_modified: float


def _fresh(request, entry: Entry) -> bool:
    inm = request.headers.get("If-None-Match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or entry.etag in tags
    ims = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    return ims is not None and int(entry.last_modified) <= ims


def cached_response(request, build: Callable[[], tuple[int, str, bytes]], *, cors: bool = False) -> HttpResponse:
    """Serve `build()` (status, content type, body) from the cache, with validators and 304s."""
    key = f"statuspage:r:{current_version()}:{request.get_full_path()}"
    entry = cache.get(key)
    if entry is None:
        status, content_type, body = build()
        etag = quote_etag(hashlib.md5(body, usedforsecurity=False).hexdigest())
        entry = Entry(body, content_type, status, etag, time.time())
        cache.set(key, entry, _ttl())
    max_age = getattr(settings, "STATUSPAGE_CLIENT_MAX_AGE", 10)
    if entry.status == 200 and _fresh(request, entry):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(entry.body, content_type=entry.content_type, status=entry.status)
    response["ETag"] = entry.etag
    response["Last-Modified"] = http_date(entry.last_modified)
    response["Cache-Control"] = f"public, max-age={max_age}, stale-while-revalidate=30, stale-if-error=600"
    response["Vary"] = "Accept-Encoding"
    if cors:
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
    return response
