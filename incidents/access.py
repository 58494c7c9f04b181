"""API token lifecycle."""

from django.db import transaction
from django.utils import timezone

from .audit import audit_record
from .models import ApiToken
from .models.access import hash_key


def api_token_create(*, user, name: str = "") -> tuple[ApiToken, str]:
    key = ApiToken.generate_key()
    token = ApiToken.objects.create(user=user, name=name, prefix=key[:8], key_hash=hash_key(key))
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by=None) -> bool:
    """Revoke for good (a revoked token is never valid again: make a new one). False if it was
    already revoked."""
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if revoked:
        audit_record(by=by, obj=token.user, action="changed", message=f"API token {token.prefix}… revoked")
    return bool(revoked)
