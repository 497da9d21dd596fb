"""Outgoing HTTP that cannot be turned against the inside of the network (SSRF).

Webhook URLs come from administrators, but a mistaken or malicious one must not let a rule
poke at ``http://169.254.169.254/`` (cloud metadata), the database's admin port or
anything else behind the firewall. ``post`` therefore:

1. accepts only ``http``/``https`` URLs without user info;
2. resolves the host **once** — IPv4 literals in every legacy spelling
   (``2130706433``, ``0x7f.1``, ``0177.0.0.1``) are read the way the C library reads them,
   so they cannot slip past as "hostnames" — and refuses when *any* address is loopback,
   private, link-local, multicast, reserved, unspecified, shared (100.64/10) or otherwise
   not global, looking inside IPv4-mapped (``::ffff:127.0.0.1``), 6to4, Teredo and NAT64
   addresses;
3. connects to the address it checked (**pinned**: a DNS answer that changes between check
   and connect — DNS rebinding — is never consulted), sending the original ``Host`` header
   and, for https, the original name for SNI and certificate verification;
4. never follows redirects, and uses short timeouts and a bounded response read.

An administrator may allow a target anyway (``allow_private``: an intranet webhook); the
connection is still pinned to the address resolved.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["Refused", "Pinned", "pin", "post", "refusal", "Response", "resolver"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_RESPONSE = 64 * 1024
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Refused(ValueError):
    """The URL may not be called (a forbidden address, scheme or form)."""


@dataclass(frozen=True)
class Pinned:
    """A checked URL and the one address it will be connected to."""

    scheme: str
    host: str  # the name from the URL (Host header, SNI)
    port: int
    target: str  # path and query
    address: str  # the checked IP


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    location: str | None = None


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


#: Name resolution, replaceable in tests (``host, port -> [ip, …]``).
resolver: Callable[[str, int], list[str]] = _system_resolver


def refusal(address: Address) -> str | None:
    """Why ``address`` may not be called, or None for a global unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or (address.sixtofour if address.sixtofour else None)
        if address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if address.teredo:
            return "a Teredo tunnel address"
        if embedded is not None:
            inner = refusal(embedded)
            return f"{inner} (inside {address})" if inner else None
    for check, reason in (("is_unspecified", "an unspecified address"),
                          ("is_loopback", "a loopback address"),
                          ("is_link_local", "a link-local address"),
                          ("is_multicast", "a multicast address"),
                          ("is_private", "a private address"),
                          ("is_reserved", "a reserved address")):  # fmt: skip
        if getattr(address, check):
            return reason
    return None if address.is_global else "not a public address"


def _literal(host: str) -> Address | None:
    """``host`` as an IP if it is one in any spelling the C library accepts."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))  # 2130706433, 0x7f.1, 0177.0.0.1
    except (OSError, ValueError):
        return None


def pin(url: str, *, allow_private: bool = False) -> Pinned:
    """Check ``url`` and choose the address to connect to; ``Refused`` if it may not be."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise Refused(f"only http and https URLs may be called, not {parts.scheme or 'none'!r}")
    if "@" in parts.netloc:
        raise Refused("URLs with user info (user@host) are not allowed")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Refused("the URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused("the URL's port is not a number in 1–65535") from None
    literal = _literal(host)
    if literal is not None:
        addresses: list[Address] = [literal]
    else:
        try:
            name = host.encode("idna").decode("ascii")
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolver(name, port)]
        except (OSError, UnicodeError, ValueError) as exc:
            raise Refused(f"{host} cannot be resolved ({exc})") from None
    if not addresses:
        raise Refused(f"{host} has no address")
    if not allow_private:
        for address in addresses:
            reason = refusal(address)
            if reason:
                raise Refused(f"{host} resolves to {address}, {reason}; an administrator "
                              "may allow-list this target")  # fmt: skip
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Pinned(parts.scheme, host, port, target, str(addresses[0]))


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a fixed address, with SNI and certificate checks for the URL's host name."""

    def __init__(self, address: str, port: int, server_name: str, timeout: float):
        super().__init__(address, port, timeout=timeout, context=ssl.create_default_context())
        self._server_name = server_name

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._server_name)  # type: ignore[attr-defined]


def _connection(pinned: Pinned, timeout: float) -> http.client.HTTPConnection:
    address = f"[{pinned.address}]" if ":" in pinned.address else pinned.address
    if pinned.scheme == "https":
        return _PinnedHTTPS(address, pinned.port, pinned.host, timeout)
    return http.client.HTTPConnection(address, pinned.port, timeout=timeout)


def post(url: str, body: bytes, headers: dict[str, str], *, allow_private: bool = False,
         timeout: float = 10.0) -> Response:  # fmt: skip
    """POST ``body`` to ``url`` under the rules above; the status and (bounded) body."""
    pinned = pin(url, allow_private=allow_private)
    default_port = 443 if pinned.scheme == "https" else 80
    host = pinned.host if ":" not in pinned.host else f"[{pinned.host}]"
    host_header = host if pinned.port == default_port else f"{host}:{pinned.port}"
    connection = _connection(pinned, timeout)
    try:
        connection.request("POST", pinned.target, body=body,
                           headers={**headers, "Host": host_header,
                                    "Content-Length": str(len(body))})  # fmt: skip
        response = connection.getresponse()
        text = response.read(MAX_RESPONSE).decode("utf-8", errors="replace")
        return Response(response.status, text, response.getheader("Location"))
    finally:
        connection.close()
