from axes.backends import AxesStandaloneBackend
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


class LockoutBackend(AxesStandaloneBackend):
    """django-axes's check before every password login through a request (login page, admin).

    A call without a request (Django's test client `login()`, a script) has no client address
    to lock and no page to show: it is left to the other backends instead of failing."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
