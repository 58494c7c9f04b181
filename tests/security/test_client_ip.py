"""The client address: X-Forwarded-For counts only when the request came from a trusted proxy."""

import pytest
from django.test import RequestFactory

from incidents.clientip import client_ip
from tests.statuspage.conftest import _own_cache_namespace  # noqa: F401 - autouse: a cache key prefix per test (never clear Redis)

pytestmark = pytest.mark.django_db


def _req(remote, xff=None, proto=None):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    if proto:
        extra["HTTP_X_FORWARDED_PROTO"] = proto
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(("trusted", "remote", "xff", "expected"), [
    ([], "203.0.113.5", "1.2.3.4", "203.0.113.5"),  # nobody trusted: the header is ignored
    (["10.0.0.0/8"], "198.51.100.9", "1.2.3.4", "198.51.100.9"),  # not from the proxy: ignored
    (["10.0.0.0/8"], "10.0.0.2", "1.2.3.4", "1.2.3.4"),
    (["10.0.0.0/8"], "10.0.0.2", "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # a spoofed left entry loses
    (["10.0.0.0/8", "192.168.1.1"], "10.0.0.2", "6.6.6.6, 1.2.3.4, 192.168.1.1", "1.2.3.4"),  # two proxies
    (["10.0.0.0/8"], "10.0.0.2", "10.0.0.7", "10.0.0.7"),  # all trusted: the leftmost
    (["10.0.0.0/8"], "10.0.0.2", "garbage, 1.2.3.4", "1.2.3.4"),
    (["10.0.0.0/8"], "10.0.0.2", "1.2.3.4, not-an-ip", "10.0.0.2"),  # unparsable hop: stop at the proxy
    (["10.0.0.0/8"], "10.0.0.2", "", "10.0.0.2"),
    (["::1", "127.0.0.1"], "::1", "2001:db8::5", "2001:db8::5"),
])
def test_client_ip(trusted, remote, xff, expected, settings):
    settings.TRUSTED_PROXIES = trusted
    assert client_ip(_req(remote, xff)) == expected


def test_subscribe_rate_limit_keys_on_the_client_behind_the_proxy(client, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    settings.STATUSPAGE_SUBSCRIBE_LIMIT_PER_HOUR = 2

    def attempt(ip):
        return client.post("/status/subscribe/", {"kind": "email", "email": "x"}, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=ip).status_code

    assert [attempt("1.1.1.1") for _ in range(3)] == [400, 400, 429]
    assert attempt("2.2.2.2") == 400  # another reader behind the same proxy has a bucket of their own


def test_forwarded_proto_is_ignored_from_an_untrusted_peer(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz-nope", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_PROTO="https").status_code == 301
    assert client.get("/healthz-nope", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_PROTO="https").status_code != 301
