"""Who owns a request: the one place that decides which vendor a path or a host belongs to, and which
``Host`` and ``Origin`` values a server accepts.

Every caller asks here: the Starlette app and the refusals of ``serve`` (path to vendor), the host guard
(``Host``/``Origin`` policy), the in-process httpx transport (path to vendor), and the interception kits
and the socket guard of the in-process mock (host to vendor). Nothing else compares host names or splits
paths into vendors.

**Paths.** ``/<vendor id>`` and everything below it belongs to that vendor (mounted there: it sees the
prefix as its root path). With a root vendor (``serve --vendor``), every other path but the emulator's own
``/__mock__`` belongs to the root vendor, unprefixed.

**Hosts.** A vendor declares its host names in ``x-emulator.hosts``; ``*.example.com`` stands for any one
label below ``example.com`` (not ``example.com`` itself, not two labels). Names compare case-insensitively,
without the port, the brackets of an IPv6 literal or the trailing dot of a fully qualified name.

**The server's policy** (DNS rebinding and cross-site requests). A web page the developer visits can make
the browser send requests to 127.0.0.1. Two headers give such a request away: a rebinding page's ``Host``
is the attacker's own name, and a cross-site form or fetch carries a foreign ``Origin``. The server
accepts a ``Host`` only when it is a loopback name or address, the address it is bound to, one of the
vendors' own host names (wildcards included), or an ``--allowed-host`` value; and an ``Origin`` only when
its host passes the same test.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import urlsplit

Owner = TypeVar("Owner")

CONTROL_PREFIX = "/__mock__"  # the emulator's own index, health, admin API and inspector: never a vendor's
HOST_HEADER = frozenset({b"host"})
# host[:port], a bracketed IPv6 address[:port]: nothing else is ever echoed (no "/", "@", spaces, quotes)
HOST_SYNTAX = re.compile(
    r"^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9_])?\.?|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$"
)
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - names of the wildcard address, not a bind
ANY_LABEL = "[a-z0-9-]+"  # what the ``*`` of a declared ``*.example.com`` stands for: one DNS label


# ---------------------------------------------------------------------------------------------- names


def canonical(name: str) -> str:
    """A bare host name as it is compared: lower case, no IPv6 brackets, no trailing dot."""
    name = name.lower()
    if name.startswith("[") and name.endswith("]"):
        return name[1:-1]
    return name[:-1] if name.endswith(".") else name


def host_name(value: str) -> str | None:
    """The host part of a ``Host`` value, :func:`canonical`; None if the value is malformed."""
    if not HOST_SYNTAX.fullmatch(value):
        return None
    if value.startswith("["):
        return canonical(value[1 : value.index("]")])
    return canonical(value.rsplit(":", 1)[0] if ":" in value else value)


def served_host(value: str | None) -> str:
    """A ``Host`` value safe to write into a document (the OpenAPI ``servers`` URL): else ``localhost``."""
    if value is None or host_name(value) is None:
        return "localhost"
    return value


def is_loopback(name: str) -> bool:
    """Whether ``name`` (canonical) is a loopback name or address."""
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def resolves_to_loopback(host: str) -> bool:
    """Whether every address the bind address ``host`` resolves to is a loopback address.

    A different question from :func:`is_loopback`: ``serve`` asks it of ``--host`` before binding, so
    the resolver decides (a name that resolves to nothing, or to one non-loopback address, is not).
    """
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)}
    except OSError:
        return False
    return all(ipaddress.ip_address(str(address).split("%")[0]).is_loopback for address in addresses)


def is_address(name: str) -> bool:
    """Whether ``name`` (canonical) is an IP literal rather than a name."""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------------------------- declared hosts


def _declared(host: str) -> str:
    """The regex of one declared host name (a ``*.`` wildcard stands for one label), trailing dot allowed."""
    host = canonical(host)
    if host.startswith("*."):
        return ANY_LABEL + r"\." + re.escape(host[2:]) + r"\.?"
    return re.escape(host) + r"\.?"


def host_pattern(host: str) -> re.Pattern[str]:
    """A regex for one declared host; ``*.example.com`` matches any one-label subdomain."""
    return re.compile("^" + _declared(host) + "$", re.IGNORECASE)


def url_pattern(host: str) -> re.Pattern[str]:
    """A regex that matches every http(s) URL on a declared host, whatever its port, path and query."""
    return re.compile(rf"^https?://{_declared(host)}(?::\d+)?(?:[/?#]|$)", re.IGNORECASE)


class HostTable(Generic[Owner]):
    """Declared host names (exact or ``*.`` wildcards) and who owns each: host name to owner."""

    def __init__(self, declared: Iterable[tuple[str, Owner]] = ()) -> None:
        self._exact: dict[str, Owner] = {}
        self._patterns: list[tuple[re.Pattern[str], Owner]] = []
        for host, owner in declared:
            self.add(host, owner)

    def add(self, host: str, owner: Owner) -> None:
        """Declare ``host`` (``*.example.com`` for any one-label subdomain) as ``owner``'s."""
        if host.startswith("*."):
            self._patterns.append((host_pattern(host), owner))
        else:
            self._exact.setdefault(canonical(host), owner)

    def owner(self, name: str) -> Owner | None:
        """The owner of a bare host name (any case, trailing dot, IPv6 brackets), or None."""
        name = canonical(name)
        found = self._exact.get(name)
        if found is not None:
            return found
        return next((owner for pattern, owner in self._patterns if pattern.match(name)), None)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.owner(name) is not None


# ---------------------------------------------------------------------------------------------- paths


@dataclass(frozen=True)
class Mounted(Generic[Owner]):
    """Who answers a path, and the prefix it is mounted at (its ASGI ``root_path``; "" at the root)."""

    owner: Owner
    prefix: str


class Routes(Generic[Owner]):
    """The emulator's routing: path to vendor (``/<id>`` and the root vendor) and host to vendor."""

    def __init__(
        self,
        vendors: Mapping[str, Owner],
        root: str | None = None,
        hosts: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.vendors = dict(vendors)
        self._mounts = {
            f"/{vendor_id}": Mounted(owner, f"/{vendor_id}") for vendor_id, owner in vendors.items()
        }
        self._root = Mounted(vendors[root], "") if root else None
        self.hosts: HostTable[str] = HostTable(
            (host, vendor_id) for vendor_id, names in (hosts or {}).items() for host in names
        )

    def for_path(self, path: str) -> Mounted[Owner] | None:
        """Who answers ``path``: the vendor of its first segment, else the root vendor; None for the rest."""
        end = path.find("/", 1)
        mounted = self._mounts.get(path[:end] if end > 0 else path)
        if mounted is None and self._root is not None and not path.startswith(CONTROL_PREFIX):
            return self._root
        return mounted

    def vendor_for_host(self, host: str) -> str | None:
        """The id of the vendor that declares this bare host name, or None."""
        return self.hosts.owner(host)


# ----------------------------------------------------------------------------------- server policy


DECISIONS = 256  # Host/Origin pairs whose decision a policy remembers
DECIDED_CHARS = 512  # longer pairs are decided afresh each time (at most 256 x 512 characters kept)


@dataclass(frozen=True)
class HostPolicy:
    """The ``Host`` names one server answers to."""

    names: frozenset[str]
    any_host: bool = False  # bound to a wildcard address with no --allowed-host: every name is "ours"
    addresses: bool = False  # bound to a wildcard address: every IP literal is one of ours
    vendor_hosts: HostTable[bool] = field(default_factory=HostTable)
    # refusal() per (Host, Origin) lately seen: a client sends the same two values again and again
    _decided: dict[tuple[str | None, str | None], str | None] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    @classmethod
    def for_server(cls, bound: str, allowed: Iterable[str], vendor_hosts: Iterable[str]) -> HostPolicy:
        """The policy of a server bound to ``bound`` with these ``--allowed-host`` values."""
        allowed = [canonical(name) for name in allowed]
        if "*" in allowed:
            return cls(frozenset(), any_host=True)
        wildcard = canonical(bound) in WILDCARDS
        names = frozenset({canonical(bound), *allowed})
        vendors: HostTable[bool] = HostTable((host, True) for host in vendor_hosts)
        return cls(names, any_host=wildcard and not allowed, addresses=wildcard, vendor_hosts=vendors)

    def serves(self, name: str) -> bool:
        """Whether a canonical host name is one of this server's."""
        if is_loopback(name) or name in self.names or name in self.vendor_hosts:
            return True
        return self.addresses and is_address(name)

    def allows(self, host: str | None) -> bool:
        """Whether a request with this ``Host`` header is for this server."""
        if host is None:
            return True  # HTTP/1.0 without Host: no browser sends that
        name = host_name(host)
        if name is None:
            return False
        return self.any_host or self.serves(name)

    def refusal(self, host: str | None, origin: str | None) -> str | None:
        """Why a request with this ``Host`` and ``Origin`` is refused (``misdirected``, ``cross_origin``),
        or None. Remembered for the last :data:`DECISIONS` pairs of short values (a parsed address per
        request cost about a fifth of a cached answer's CPU)."""
        key = (host, origin)
        if key in self._decided:
            return self._decided[key]
        kind = None
        if not self.allows(host):
            kind = "misdirected"
        elif not self.allows_origin(origin):
            kind = "cross_origin"
        if len(host or "") + len(origin or "") <= DECIDED_CHARS:
            if len(self._decided) >= DECISIONS:
                self._decided.clear()
            self._decided[key] = kind
        return kind

    def allows_origin(self, origin: str | None) -> bool:
        """Whether a request with this ``Origin`` comes from a page this server may be driven by."""
        if origin is None:
            return True  # not a browser's cross-origin request
        if origin == "null":
            return False  # sandboxed frames, file: pages, redirects: never ours
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        return self.serves(canonical(parts.hostname))
