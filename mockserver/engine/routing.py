"""Which ``Host`` and ``Origin`` values the server accepts (DNS rebinding and cross-site requests).

A web page the developer visits can make the browser send requests to 127.0.0.1. Two headers give such a
request away: a rebinding page's ``Host`` is the attacker's own name, and a cross-site form or fetch
carries a foreign ``Origin``. The server accepts a ``Host`` only when it is a loopback name or address,
the address it is bound to, one of the vendors' own host names, or an ``--allowed-host`` value; and an
``Origin`` only when its host passes the same test.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

HOST_HEADER = frozenset({b"host"})
# host[:port], a bracketed IPv6 address[:port]: nothing else is ever echoed (no "/", "@", spaces, quotes)
HOST_SYNTAX = re.compile(
    r"^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9_])?|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$"
)
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - names of the wildcard address, not a bind


def host_name(value: str) -> str | None:
    """The host part of a ``Host`` value (lower case, IPv6 without brackets); None if it is malformed."""
    if not HOST_SYNTAX.fullmatch(value):
        return None
    if value.startswith("["):
        return value[1 : value.index("]")].lower()
    return value.rsplit(":", 1)[0].lower() if ":" in value else value.lower()


def served_host(value: str | None) -> str:
    """A ``Host`` value safe to write into a document (the OpenAPI ``servers`` URL): else ``localhost``."""
    if value is None or host_name(value) is None:
        return "localhost"
    return value


def is_loopback(name: str) -> bool:
    """Whether ``name`` is a loopback name or address."""
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class HostPolicy:
    """The ``Host`` names one server answers to."""

    names: frozenset[str]
    any_host: bool = False  # bound to a wildcard address with no --allowed-host: every name is "ours"
    addresses: bool = False  # bound to a wildcard address: every IP literal is one of ours

    @classmethod
    def for_server(cls, bound: str, allowed: Iterable[str], vendor_hosts: Iterable[str]) -> HostPolicy:
        """The policy of a server bound to ``bound`` with these ``--allowed-host`` values."""
        allowed = [name.lower().strip("[]") for name in allowed]
        if "*" in allowed:
            return cls(frozenset(), any_host=True)
        wildcard = bound.strip("[]") in WILDCARDS
        names = frozenset({bound.strip("[]").lower(), *allowed, *(name.lower() for name in vendor_hosts)})
        return cls(names, any_host=wildcard and not allowed, addresses=wildcard)

    def allows(self, host: str | None) -> bool:
        """Whether a request with this ``Host`` header is for this server."""
        if host is None:
            return True  # HTTP/1.0 without Host: no browser sends that
        name = host_name(host)
        if name is None:
            return False
        if self.any_host or is_loopback(name) or name in self.names:
            return True
        return self.addresses and _is_address(name)

    def allows_origin(self, origin: str | None) -> bool:
        """Whether a request with this ``Origin`` comes from a page this server may be driven by."""
        if origin is None:
            return True  # not a browser's cross-origin request
        if origin == "null":
            return False  # sandboxed frames, file: pages, redirects: never ours
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        name = parts.hostname.lower()
        return is_loopback(name) or name in self.names or (self.addresses and _is_address(name))
