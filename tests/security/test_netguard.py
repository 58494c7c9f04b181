"""The outgoing-webhook guard, address by address: every IPv6 form that carries an IPv4 address
is judged by that IPv4 address, and every reserved range is refused."""

import pytest

from delivery import netguard

ALWAYS = "always"  # refused even with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true
PRIVATE = "private"  # refused unless private networks are allowed
OK = "ok"  # a public address

CASES = [
    # plain IPv4
    ("93.184.216.34", OK),
    ("169.254.169.254", ALWAYS),
    ("0.0.0.0", ALWAYS),
    ("224.0.0.1", ALWAYS),
    ("255.255.255.255", ALWAYS),
    ("192.0.0.192", ALWAYS),
    ("192.0.2.10", ALWAYS),  # TEST-NET-1
    ("198.51.100.7", ALWAYS),  # TEST-NET-2
    ("203.0.113.9", ALWAYS),  # TEST-NET-3
    ("10.1.2.3", PRIVATE),
    ("127.0.0.1", PRIVATE),
    ("100.64.0.1", PRIVATE),
    ("198.18.0.1", PRIVATE),
    ("172.16.5.4", PRIVATE),
    # IPv6 on its own
    ("2606:4700:4700::1111", OK),
    ("::", ALWAYS),
    ("::1", PRIVATE),
    ("fe80::1", ALWAYS),
    ("fe80::1%eth0", ALWAYS),
    ("ff02::1", ALWAYS),
    ("fd00:ec2::254", ALWAYS),
    ("fc00::1", PRIVATE),
    ("2001:db8::1", ALWAYS),  # documentation
    ("100::1", ALWAYS),  # discard-only
    # IPv4-mapped ::ffff:a.b.c.d
    ("::ffff:169.254.169.254", ALWAYS),
    ("::ffff:10.0.0.1", PRIVATE),
    ("::ffff:93.184.216.34", OK),
    # IPv4-compatible ::a.b.c.d (deprecated)
    ("::169.254.169.254", ALWAYS),
    ("::a9fe:a9fe", ALWAYS),
    ("::10.0.0.1", PRIVATE),
    ("::127.0.0.1", PRIVATE),
    # NAT64 well-known prefix 64:ff9b::/96 and local-use 64:ff9b:1::/48
    ("64:ff9b::169.254.169.254", ALWAYS),
    ("64:ff9b::a9fe:a9fe", ALWAYS),
    ("64:ff9b::10.0.0.1", PRIVATE),
    ("64:ff9b::127.0.0.1", PRIVATE),
    ("64:ff9b::93.184.216.34", OK),
    ("64:ff9b:1::a9fe:a9fe", ALWAYS),
    ("64:ff9b:1:2::10.0.0.1", PRIVATE),
    # 6to4 2002:AABB:CCDD::/48
    ("2002:a9fe:a9fe::1", ALWAYS),
    ("2002:0a00:0001::1", PRIVATE),
    ("2002:7f00:0001::", PRIVATE),
    # Teredo 2001:0::/32, client address = inverted low 32 bits
    ("2001:0:4136:e378:8000:63bf:5601:5601", ALWAYS),  # client 169.254.169.254
    ("2001:0:4136:e378:8000:63bf:f5ff:fffe", PRIVATE),  # client 10.0.0.1
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", PRIVATE),  # client 127.0.0.1
]


def _verdict(address):
    try:
        netguard.check_address(address)
    except netguard.UnsafeURL:
        return "refused"
    return "allowed"


@pytest.mark.parametrize(("address", "kind"), CASES)
def test_guard_without_private_networks(address, kind, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    assert _verdict(address) == ("allowed" if kind == OK else "refused")


@pytest.mark.parametrize(("address", "kind"), CASES)
def test_guard_with_private_networks(address, kind, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    assert _verdict(address) == ("refused" if kind == ALWAYS else "allowed")


def test_url_with_a_nat64_literal_is_refused(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    with pytest.raises(netguard.UnsafeURL):
        netguard.check_url("http://[64:ff9b::a9fe:a9fe]/latest/meta-data/")
