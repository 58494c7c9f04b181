"""The client's address, believing X-Forwarded-For only from settings.TRUSTED_PROXIES.

Everything that keys on who is asking (the subscribe rate limit, login lockout, the audit of
logins) calls `client_ip`. `TrustedProxyMiddleware` drops the forwarded headers of requests
that did not come through a trusted proxy, so nothing further down (SECURE_PROXY_SSL_HEADER,
a library reading X-Forwarded-For) can be fooled by a client sending them itself."""

import ipaddress
from functools import lru_cache

from django.conf import settings

FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PORT", "HTTP_FORWARDED")


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _parse(address: str):
    try:
        return ipaddress.ip_address(address.strip().split("%", 1)[0])
    except ValueError:
        return None


def is_trusted_proxy(address: str) -> bool:
    ip = _parse(address or "")
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in net for net in _networks(tuple(settings.TRUSTED_PROXIES)) if net.version == ip.version)


def client_ip(request) -> str:
    """REMOTE_ADDR, or, when that is a trusted proxy, the nearest X-Forwarded-For hop that is not
    one (read from the right: entries left of it may be forged by the client)."""
    remote = str(_parse(request.META.get("REMOTE_ADDR") or "") or "")  # "" when unknown (no socket)
    if not is_trusted_proxy(remote):
        return remote
    client = remote
    for hop in reversed([h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]):
        ip = _parse(hop)
        if ip is None:
            break  # an unparsable hop: stop at the last address a trusted proxy vouched for
        client = str(ip)
        if not is_trusted_proxy(client):
            break
    return client


def client_ip_or_none(request) -> str | None:
    """`client_ip` for django-axes (AXES_CLIENT_IP_CALLABLE), which stores None for unknown."""
    return client_ip(request) or None


class TrustedProxyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_trusted_proxy(request.META.get("REMOTE_ADDR", "")):
            for header in FORWARDED_HEADERS:
                request.META.pop(header, None)
        return self.get_response(request)
