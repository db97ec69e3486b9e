"""Authentication: who is calling, from the vendor's own headers.

Keys are looked up by their SHA-256 digest, so the comparison does not depend on how much of a
key matches; the key itself is never stored in a message, a log or a repr. The digest of a header value
that authenticated a moment ago is remembered (a small bounded map, emptied on every change of the
keys), and the key it names is looked up again on every request: a revoked key is refused at once.
That map holds only accepted values and is searched by hash (randomised per process): a guess is
compared with a remembered value only when their hashes are equal, so how much of it matches does not
show in the time taken.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal, TypeAlias

DEFAULT_TENANT = "default"
AuthKind: TypeAlias = Literal["bearer", "api-key"]


@dataclass(frozen=True)
class Credential:
    """An accepted key; ``tenant`` is the organization it belongs to, where the vendor has one."""

    key: str = field(repr=False)
    tenant: str | None = None


@dataclass(frozen=True)
class AuthSpec:
    """How a vendor authenticates: ``bearer`` or an ``api-key`` header, optionally with a tenant header."""

    kind: AuthKind
    test_credentials: tuple[Credential, ...]
    header: str | None = None
    tenant_header: str | None = None


class Refusal(Enum):
    """Why a request is not authenticated; each maps to one of the vendor's error templates."""

    MISSING = "missing_credentials"
    INVALID = "invalid_credentials"
    FORBIDDEN = "forbidden"


@dataclass(frozen=True)
class Denied:
    """A refused request; ``header`` names the header at fault (for messages)."""

    refusal: Refusal
    header: str


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: its tenant scopes data, journal and cursors."""

    tenant: str


OWS = " \t"  # HTTP's optional white space; nothing else is trimmed from a credential
# Header values that authenticated lately, to their key's digest, credential and principal: at most
# this many, of at most so many characters each (key and tenant header): about 150 KiB at most.
RECENT_KEYS = 64
RECENT_VALUE_CHARS = 1024


def digest(key: bytes) -> bytes:
    """The stored form of a key."""
    return hashlib.sha256(key).digest()


def header_bytes(value: str) -> bytes:
    """A header value's original bytes (ASGI headers are decoded as latin-1, which is lossless)."""
    return value.encode("latin-1")


class Authenticator:
    """Checks one vendor's credentials."""

    def __init__(self, spec: AuthSpec, credentials: Iterable[Credential]) -> None:
        self.spec = spec
        self.header = (spec.header or "Authorization").lower()
        self.tenant_header = spec.tenant_header.lower() if spec.tenant_header else None
        self._accepted: dict[bytes, Credential] = {
            digest(item.key.encode("utf-8")): item for item in credentials
        }
        # (key header value, tenant header value) -> (digest, credential, principal) of a request that
        # authenticated lately. Only a shortcut to the digest: the credential is looked up by it again on
        # each request (and must be the same object), so a key revoked or rebound is refused at once.
        self._recent: dict[tuple[str, str | None], tuple[bytes, Credential, Principal]] = {}

    def __repr__(self) -> str:
        return f"<Authenticator {self.header}: {len(self._accepted)} keys>"  # never a key

    def add(self, credential: Credential) -> None:
        """Accept one more key (a tenant registering its own)."""
        self._accepted[digest(credential.key.encode("utf-8"))] = credential
        self._recent = {}

    def accepts_as(self, other: Authenticator) -> bool:
        """Whether this accepts exactly the keys ``other`` accepts, for the same credentials."""
        return self._accepted == other._accepted

    def credential(self, key: str) -> Credential | None:
        """The accepted credential of ``key``, if it is accepted."""
        return self._accepted.get(digest(key.encode("utf-8")))

    def size(self) -> int:
        """How many keys are accepted."""
        return len(self._accepted)

    def count(self, tenant: str) -> int:
        """How many accepted keys belong to ``tenant``."""
        return sum(1 for item in self._accepted.values() if (item.tenant or DEFAULT_TENANT) == tenant)

    def snapshot(self) -> list[tuple[str, str | None]]:
        """The accepted keys as (SHA-256 digest in hex, tenant): what persistence saves, never a key."""
        return [(key.hex(), item.tenant) for key, item in self._accepted.items()]

    def restore(self, items: Iterable[tuple[str, str | None]]) -> None:
        """Accept exactly the keys of a snapshot (their digests; the keys themselves were never saved)."""
        known = {key.hex(): item for key, item in self._accepted.items()}
        self._accepted = {
            bytes.fromhex(hexdigest): known.get(hexdigest) or Credential("", tenant)
            for hexdigest, tenant in items
        }
        self._recent = {}

    def tenants(self) -> list[str]:
        """The tenants of the accepted keys (never the keys), in the order they were added."""
        return list(dict.fromkeys(item.tenant or DEFAULT_TENANT for item in list(self._accepted.values())))

    def revoke(self, key: str) -> bool:
        """Stop accepting ``key``; True if it was accepted."""
        revoked = self._accepted.pop(digest(key.encode("utf-8")), None) is not None
        self._recent = {}
        return revoked

    def exported(self, change: Credential | None = None, revoked: str | None = None) -> dict[str, str | None]:
        """The accepted keys as digests (hex) and tenants, after a change: what is shared, never a key."""
        accepted = {name.hex(): item.tenant for name, item in self._accepted.items()}
        if change is not None:
            accepted[digest(change.key.encode("utf-8")).hex()] = change.tenant
        if revoked is not None:
            accepted.pop(digest(revoked.encode("utf-8")).hex(), None)
        return accepted

    def load(self, accepted: dict[str, str | None]) -> None:
        """Accept exactly these digests (another process changed the keys)."""
        self._accepted = {bytes.fromhex(name): Credential("", tenant) for name, tenant in accepted.items()}
        self._recent = {}

    def _presented_key(self, value: str) -> bytes | None:
        value = value.strip(OWS)
        if self.spec.kind != "bearer":
            return header_bytes(value) if value else None
        scheme, _, token = value.partition(" ")
        token = token.strip(OWS)
        if scheme.lower() != "bearer" or not token:
            return None
        return header_bytes(token)

    def authenticate(self, headers: Mapping[str, str]) -> Principal | Denied:
        """The caller, or why it is refused: missing and invalid keys differ, as the vendors' bodies do."""
        value = headers.get(self.header)
        if value is None:
            return Denied(Refusal.MISSING, self.spec.header or "Authorization")
        presented = (value, headers.get(self.tenant_header) if self.tenant_header is not None else None)
        recent = self._recent.get(presented)
        if recent is not None and self._accepted.get(recent[0]) is recent[1]:
            return recent[2]  # the same header values as a moment ago, and their key is still accepted
        key = self._presented_key(value)
        hashed = digest(key) if key is not None else b""
        credential = self._accepted.get(hashed) if key is not None else None
        if credential is None:
            return Denied(Refusal.INVALID, self.spec.header or "Authorization")
        if self.tenant_header is None:
            who: Principal | Denied = Principal(credential.tenant or DEFAULT_TENANT)
        else:
            who = self._with_tenant(headers, credential)
        if isinstance(who, Principal) and len(value) + len(presented[1] or "") <= RECENT_VALUE_CHARS:
            if len(self._recent) >= RECENT_KEYS:
                self._recent = {}
            self._recent[presented] = (hashed, credential, who)
        return who

    def _with_tenant(self, headers: Mapping[str, str], credential: Credential) -> Principal | Denied:
        display = self.spec.tenant_header or ""
        presented = headers.get(self.tenant_header or "")
        if presented is None or not presented.strip():
            return Denied(Refusal.MISSING, display)
        expected = credential.tenant or ""
        if not hmac.compare_digest(
            presented.strip().encode("utf-8", "surrogateescape"), expected.encode("utf-8")
        ):
            return Denied(Refusal.FORBIDDEN, display)
        return Principal(expected)
