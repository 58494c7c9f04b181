"""`Idempotency-Key` on every creating POST: the same key from the same user on the same path
within a day returns the first response (with `Idempotent-Replayed: true`) instead of creating
twice. `create` gets it from `IdempotentCreateMixin`; a creating action is decorated with
`@idempotent`. tests/incidents/test_idempotency.py finds every POST of the OpenAPI schema that
answers 201 or 202 and fails for one that does not replay.

Secrets shown once (an integration's key) are not stored with the response: the replay carries
`null` in their place and the header `Idempotent-Secrets-Withheld`, so a client that lost the
first answer rotates the key instead of the portal keeping it in clear."""

import json
from datetime import timedelta
from functools import wraps

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from ..models.access import IdempotencyRecord

TTL = timedelta(hours=24)
HEADER = "Idempotent-Replayed"
KEY_HEADER = "Idempotency-Key"
WITHHELD_HEADER = "Idempotent-Secrets-Withheld"


def _replay(record: IdempotencyRecord) -> Response:
    headers, body = {HEADER: "true"}, record.body
    if isinstance(body, dict) and "_withheld" in body:
        headers[WITHHELD_HEADER] = ", ".join(body["_withheld"])
        body = {k: v for k, v in body.items() if k != "_withheld"}
    return Response(body, status=record.status_code, headers=headers)


WITHHELD = "WITHHELD"


def _scrub(value, secrets: list[str]):
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, WITHHELD)
        return value
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, secrets) for k, v in value.items()}
    return value


def _stored_body(data, secrets: tuple[str, ...]):
    """The response as the client saw it (UUIDs, times as text), without the secrets: the named
    fields become null and their values are cut out of every other string (a URL with the key)."""
    data = json.loads(json.dumps(data, cls=JSONEncoder))
    if not secrets or not isinstance(data, dict):
        return data
    present = [name for name in secrets if isinstance(data.get(name), str) and data[name]]
    if not present:
        return data
    values = [data[name] for name in present]
    return {**_scrub({k: v for k, v in data.items() if k not in present}, values), **dict.fromkeys(present), "_withheld": present}


def run_idempotent(request, create, *, secrets: tuple[str, ...] = ()) -> Response:
    """Run `create()` once per (user, Idempotency-Key, method and path); replay it afterwards."""
    key = request.headers.get(KEY_HEADER, "").strip()[:200]
    if not key or not request.user.is_authenticated:
        return create()
    scope = f"{request.method} {request.path}"[:200]
    found = IdempotencyRecord.objects.filter(user=request.user, key=key, scope=scope, created_at__gte=timezone.now() - TTL).first()
    if found:
        return _replay(found)
    IdempotencyRecord.objects.filter(user=request.user, key=key, scope=scope).delete()  # expired
    with transaction.atomic():
        response = create()
        if 200 <= response.status_code < 300:
            try:
                with transaction.atomic():
                    IdempotencyRecord.objects.create(user=request.user, key=key, scope=scope, status_code=response.status_code,
                                                     body=_stored_body(response.data, secrets))
            except IntegrityError:  # a concurrent request with the same key won: undo ours
                transaction.set_rollback(True)
                return _replay(IdempotencyRecord.objects.get(user=request.user, key=key, scope=scope))
    return response


def idempotent(view_method=None, *, secrets: tuple[str, ...] = ()):
    """Decorate a creating view method (`create` or an `@action`) so a retried POST replays."""

    def decorate(method):
        @wraps(method)
        def wrapper(self, request, *args, **kwargs):
            return run_idempotent(request, lambda: method(self, request, *args, **kwargs), secrets=secrets)

        return wrapper

    return decorate(view_method) if view_method is not None else decorate


class IdempotentCreateMixin:
    """`create` runs `perform_idempotent_create` once per Idempotency-Key (by default the
    viewset's own `create`)."""

    def create(self, request, *args, **kwargs):
        return run_idempotent(request, lambda: self.perform_idempotent_create(request, *args, **kwargs))

    def perform_idempotent_create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)
