"""`Idempotency-Key` on creating POSTs: the same key from the same user within a day returns
the first response instead of creating twice."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from ..models.access import IdempotencyRecord

TTL = timedelta(hours=24)
HEADER = "Idempotency-Key"


class IdempotentCreateMixin:
    """`create` goes through `idempotent(request, self.perform_idempotent_create)`."""

    def create(self, request, *args, **kwargs):
        return self.idempotent(request, lambda: self.perform_idempotent_create(request, *args, **kwargs))

    def perform_idempotent_create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def idempotent(self, request, create):
        key = request.headers.get(HEADER, "").strip()[:200]
        if not key:
            return create()
        scope = f"{request.method} {request.path}"
        found = IdempotencyRecord.objects.filter(
            user=request.user, key=key, scope=scope, created_at__gte=timezone.now() - TTL
        ).first()
        if found:
            return Response(found.body, status=found.status_code, headers={"Idempotent-Replayed": "true"})
        with transaction.atomic():
            response = create()
            if 200 <= response.status_code < 300:
                try:
                    with transaction.atomic():
                        IdempotencyRecord.objects.create(
                            user=request.user, key=key, scope=scope, status_code=response.status_code, body=response.data
                        )
                except IntegrityError:  # a concurrent request with the same key won: undo ours
                    transaction.set_rollback(True)
                    first = IdempotencyRecord.objects.get(user=request.user, key=key, scope=scope)
                    return Response(first.body, status=first.status_code, headers={"Idempotent-Replayed": "true"})
        return response
