from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiToken
from .models.access import hash_key


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>`; keys are looked up by their SHA-256, never stored."""

    keyword = "Token"

    def authenticate_credentials(self, key):
        token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(key), revoked_at__isnull=True).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token
