"""Request-forgery guard for user-given webhook URLs.

http(s) only; every address the host resolves to is checked. Link-local and cloud metadata
addresses are always refused; private, loopback and shared ranges only when
settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS is on. Checked when a URL is saved and again at send
time, and the sender connects to the address that was checked (no second lookup), so a DNS
answer that changes in between (rebinding) cannot redirect a delivery."""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

ALWAYS_BLOCKED = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "169.254.0.0/16",  # link-local, incl. 169.254.169.254 (AWS, GCP, Azure, OpenStack metadata)
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "192.0.0.0/24",  # IETF protocol assignments (incl. 192.0.0.192 Oracle Cloud metadata)
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
        "::/128",
        "fe80::/10",  # IPv6 link-local
        "fd00:ec2::254/128",  # AWS metadata over IPv6
        "ff00::/8",  # IPv6 multicast
    )
]
PRIVATE = [
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "100.64.0.0/10",
        "198.18.0.0/15", "::1/128", "fc00::/7",
    )
]


class UnsafeURL(ValueError):
    pass


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path + query
    addresses: tuple[str, ...]


def check_address(address: str) -> None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if any(ip in net for net in ALWAYS_BLOCKED if net.version == ip.version):
        raise UnsafeURL(f"Refusing {ip}: link-local and cloud metadata addresses are never allowed.")
    private = any(ip in net for net in PRIVATE if net.version == ip.version) or not ip.is_global
    if private and not settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS:
        raise UnsafeURL(f"Refusing {ip}: private and loopback addresses are not allowed here (WEBHOOK_ALLOW_PRIVATE_NETWORKS).")


def check_url(url: str) -> Target:
    """Parse, resolve and vet `url`; returns the checked addresses to connect to."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"Not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL("Use an http:// or https:// URL.")
    if not parts.hostname:
        raise UnsafeURL("The URL has no host.")
    if parts.username or parts.password:
        raise UnsafeURL("Put credentials in the path or a header, not in the URL's user part.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"Cannot resolve {parts.hostname}.") from exc
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnsafeURL(f"Cannot resolve {parts.hostname}.")
    for address in addresses:
        check_address(address)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, parts.hostname, port, path, addresses)
