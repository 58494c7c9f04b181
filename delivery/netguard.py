"""Request-forgery guard for user-given webhook URLs, and the one way the portal POSTs to them.

http(s) only; every address the host resolves to is checked, and an IPv6 address that carries
an IPv4 one (mapped, IPv4-compatible, NAT64, 6to4, Teredo) is judged by that IPv4 address.
Link-local, cloud metadata, multicast, reserved and documentation addresses are always refused; private, loopback and shared ranges only when
settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS is on. Checked when a URL is saved and again at send
time, and the sender connects to the address that was checked (no second lookup), so a DNS
answer that changes in between (rebinding) cannot redirect a delivery."""

import ipaddress
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings

RESPONSE_KEEP = 2000  # characters of a response body kept

ALWAYS_BLOCKED = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "169.254.0.0/16",  # link-local, incl. 169.254.169.254 (AWS, GCP, Azure, OpenStack metadata)
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "192.0.0.0/24",  # IETF protocol assignments (incl. 192.0.0.192 Oracle Cloud metadata)
        "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",  # documentation (TEST-NET-1..3)
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
        "::/128",
        "fe80::/10",  # IPv6 link-local
        "2001:db8::/32", "3fff::/20",  # IPv6 documentation
        "100::/64",  # IPv6 discard-only
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


# IPv6 forms that carry an IPv4 address: the IPv4 address decides.
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64 prefix (RFC 6052)
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # local-use NAT64 (RFC 8215): never public
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d
TEREDO = ipaddress.ip_network("2001::/32")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address reaches through mapping, 6to4, Teredo, NAT64 or the old
    IPv4-compatible form; None for a native IPv6 address."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]  # the client, already un-inverted
    if ip in NAT64 or ip in NAT64_LOCAL or (ip in IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _classify(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """"always" (never reachable), "private" (only with WEBHOOK_ALLOW_PRIVATE_NETWORKS) or ""."""
    if ip.is_loopback:
        return "private"
    if (any(ip in net for net in ALWAYS_BLOCKED if net.version == ip.version)
            or ip.is_unspecified or ip.is_link_local or ip.is_multicast or ip.is_reserved):
        return "always"
    if any(ip in net for net in PRIVATE if net.version == ip.version) or ip.is_private or not ip.is_global:
        return "private"
    return ""


def check_address(address: str) -> None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    verdict = _classify(ip)
    if isinstance(ip, ipaddress.IPv6Address) and (inner := embedded_ipv4(ip)) is not None:
        verdict = _classify(inner)
        if not verdict and (ip in NAT64_LOCAL or ip in TEREDO):
            verdict = "private"
        ip = inner
    if verdict == "always":
        raise UnsafeURL(f"Refusing {ip}: link-local and cloud metadata addresses are never allowed (nor multicast, reserved or documentation ones).")
    if verdict == "private" and not settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS:
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


class SendError(Exception):
    """A POST that did not get a 2xx. `permanent`: retrying cannot help (refused URL, most 3xx/4xx)."""

    def __init__(self, message: str, *, permanent: bool = False, status_code: int | None = None, response: str = "",
                 retry_after: float | None = None):
        super().__init__(message)
        self.message, self.permanent, self.status_code, self.response = message, permanent, status_code, response
        self.retry_after = retry_after


def retry_after_seconds(value) -> float | None:
    """A `Retry-After` header's wait in seconds (delta-seconds or an HTTP date), None when absent
    or unreadable. Never negative."""
    value = str(value or "").strip()[:64]
    if not value:
        return None
    if value.isascii() and value.replace(".", "", 1).isdigit():
        return max(float(value), 0.0)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def post(url: str, body: bytes, headers: dict, timeout: float | None = None) -> tuple[int, str]:
    """POST `body` to `url` after `check_url`, connecting only to the checked addresses (no
    second lookup), with `timeout` (WEBHOOK_TIMEOUT_SECONDS) on every socket step and no
    redirects. Returns (status, start of the response); raises SendError unless 2xx."""
    try:
        target = check_url(url)
    except UnsafeURL as exc:
        raise SendError(str(exc), permanent=True) from exc
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS if timeout is None else timeout
    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    if ":" in target.host and target.port not in (80, 443):
        host_header = f"[{target.host}]:{target.port}"
    last_error = None
    for address in target.addresses:
        pool_kwargs = {"timeout": urllib3.Timeout(connect=timeout, read=timeout, total=timeout), "retries": False, "maxsize": 1}
        if target.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                address, target.port, server_hostname=target.host, assert_hostname=target.host,
                cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(), **pool_kwargs,
            )
        else:
            pool = urllib3.HTTPConnectionPool(address, target.port, **pool_kwargs)
        try:
            response = pool.urlopen(
                "POST", target.path, body=body, headers={**headers, "Host": host_header},
                redirect=False, assert_same_host=False, preload_content=False,
            )
            try:
                text = response.read(RESPONSE_KEEP * 2, decode_content=True).decode("utf-8", "replace")[:RESPONSE_KEEP]
            finally:
                response.release_conn()
        except urllib3.exceptions.NewConnectionError as exc:
            last_error = exc
            continue  # try the next checked address
        except urllib3.exceptions.HTTPError as exc:
            raise SendError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            pool.close()
        if 200 <= response.status < 300:
            return response.status, text
        permanent = 300 <= response.status < 500 and response.status not in (408, 409, 425, 429)
        wait = retry_after_seconds(response.headers.get("Retry-After")) if response.status in (429, 503) else None
        raise SendError(f"HTTP {response.status}", permanent=permanent, status_code=response.status, response=text,
                        retry_after=wait)
    raise SendError(f"Could not connect: {last_error}")
