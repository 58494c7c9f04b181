"""API token lifecycle."""

from django.utils import timezone

from .models import ApiToken
from .models.access import hash_key


def api_token_create(*, user, name: str = "") -> tuple[ApiToken, str]:
    key = ApiToken.generate_key()
    token = ApiToken.objects.create(user=user, name=name, prefix=key[:8], key_hash=hash_key(key))
    return token, key


def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
