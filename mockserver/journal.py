"""The request journal: every request a vendor receives, with credentials redacted, in bounded memory."""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode

REDACTED = "[redacted]"
REDACTED_BYTES = REDACTED.encode()
SECRET_NAME = re.compile(
    r"auth|key|token|secret|cookie|password|passwd|session|credential|signature", re.IGNORECASE
)
DEFAULT_JOURNAL_SIZE = 1000


@lru_cache(maxsize=4096)
def secret_name(name: str) -> bool:
    """Whether a header or parameter name looks like it carries a credential (cached: it is asked often)."""
    return SECRET_NAME.search(name) is not None


@lru_cache(maxsize=4096)
def secret_header(name: bytes) -> bool:
    """``secret_name`` for a raw header name (cached per name: asked on every request)."""
    return secret_name(name.decode("latin-1"))


def redacted_target(target: str) -> str:
    """A request target (path and query) with the values of secret-looking query parameters redacted."""
    path, question, query = target.partition("?")
    if not question:
        return target
    return f"{path}?{_redacted_query(query.encode('latin-1')).decode('latin-1')}"


def _redacted_query(raw: bytes) -> bytes:
    """The raw query, or (rarely) a copy without the values of secret-looking parameters.

    Only parameter *names* are looked at (a cursor's base64 may well contain "key").
    """
    if not raw or not any(secret_header(part.split(b"=", 1)[0]) for part in raw.split(b"&")):
        return raw
    pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return urlencode([(name, REDACTED if secret_name(name) else value) for name, value in pairs]).encode()


def _query_text(value: Any) -> str | None:
    """How httpx writes a value in a query string (``True`` is ``true``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(slots=True)
class JournalEntry:
    """One request as the emulator saw it (credentials already redacted), and the status it answered.

    Header bytes are kept as received, less credentials, and decoded when read: recording stays cheap.
    """

    sequence: int
    at: float
    vendor: str
    tenant: str | None
    method: str
    path: str
    raw_query: bytes
    raw_headers: tuple[tuple[bytes, bytes], ...]
    status: int

    @property
    def query(self) -> tuple[tuple[str, str], ...]:
        """The query parameters, secret-looking ones redacted."""
        pairs = parse_qsl(self.raw_query.decode("utf-8", "replace"), keep_blank_values=True)
        return tuple((name, REDACTED if secret_name(name) else value) for name, value in pairs)

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        """The request headers, credentials redacted."""
        return tuple((name.decode("latin-1"), value.decode("latin-1")) for name, value in self.raw_headers)

    def param(self, name: str) -> str | None:
        """The (first) value of query parameter ``name``."""
        return next((value for key, value in self.query if key == name), None)

    def matches(self, *, method: str | None = None, path: str | None = None, **params: Any) -> bool:
        """True when every given attribute and query parameter has the given value."""
        if method is not None and self.method != method.upper():
            return False
        if path is not None and self.path != path:
            return False
        return all(self.param(name) == _query_text(value) for name, value in params.items())

    def summary(self) -> str:
        """``GET /path?a=1 -> 200``: one line for assertion messages."""
        query = "&".join(f"{name}={value}" for name, value in self.query)
        return f"{self.method} {self.path}{'?' + query if query else ''} -> {self.status}"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (the admin API returns these)."""
        return {
            "sequence": self.sequence,
            "at": self.at,
            "vendor": self.vendor,
            "tenant": self.tenant,
            "method": self.method,
            "path": self.path,
            "query": [list(pair) for pair in self.query],
            "headers": dict(self.headers),
            "status": self.status,
        }


@dataclass(frozen=True)
class JournalBudget:
    """The byte budgets of a journal (mockserver.limits sets them from the command line)."""

    tenant_bytes: int = 1024 * 1024
    total_bytes: int = 64 * 1024 * 1024
    header_value_bytes: int = 256
    query_bytes: int = 2048
    max_headers: int = 100


ENTRY_OVERHEAD = 400  # bytes of an entry's objects besides its strings (measured: about 350 on 3.11)
TRUNCATED = b"...[cut]"


def _stored_headers(
    raw: Any, secret_headers: frozenset[bytes], budget: JournalBudget
) -> tuple[tuple[bytes, bytes], ...]:
    """The headers as the journal keeps them: credentials redacted, long values cut, at most so many."""
    limit = budget.header_value_bytes
    return tuple(
        (
            name[:limit],
            REDACTED_BYTES
            if name in secret_headers or secret_header(name)
            else (value if len(value) <= limit else value[:limit] + TRUNCATED),
        )
        for name, value in raw[: budget.max_headers]
    )


def _size(entry: JournalEntry) -> int:
    return (
        ENTRY_OVERHEAD
        + len(entry.path)
        + len(entry.raw_query)
        + sum(len(name) + len(value) + 120 for name, value in entry.raw_headers)
    )


class Journal:
    """The last ``size`` requests of each vendor and tenant; older ones fall off (memory stays bounded).

    Bounded per (vendor, tenant), so a busy tenant never evicts another tenant's requests.
    """

    def __init__(self, size: int = DEFAULT_JOURNAL_SIZE, budget: JournalBudget | None = None) -> None:
        self.size = size
        self.budget = budget or JournalBudget()
        self._entries: dict[tuple[str, str | None], deque[JournalEntry]] = {}
        self._bytes: dict[tuple[str, str | None], int] = {}
        self._total = 0
        self._sequence = itertools.count(1)
        self._lock = threading.Lock()

    @property
    def stored_bytes(self) -> int:
        """The approximate size of everything stored (the budget counts this)."""
        return self._total

    def record(
        self,
        vendor: str,
        tenant: str | None,
        scope: Mapping[str, Any],
        *,
        path: str,
        status: int,
        secret_headers: frozenset[bytes],
    ) -> JournalEntry:
        """Add one request; credentials are replaced, and long values cut, before anything is stored.

        An unauthenticated request (``tenant`` None) is kept in a compact form: no headers at all.
        """
        budget = self.budget
        headers = () if tenant is None else _stored_headers(scope["headers"], secret_headers, budget)
        query = _redacted_query(scope["query_string"][: budget.query_bytes])
        entry = JournalEntry(
            0,
            time.time(),
            vendor,
            tenant,
            scope["method"],
            path[: budget.query_bytes],
            query,
            headers,
            status,
        )
        size = _size(entry)
        owner = (vendor, tenant)
        with self._lock:
            entry.sequence = next(self._sequence)
            entries = self._entries.get(owner)
            if entries is None:
                entries = self._entries[owner] = deque()
                self._bytes[owner] = 0
            entries.append(entry)
            self._bytes[owner] += size
            self._total += size
            while owner in self._bytes and (
                len(entries) > self.size or self._bytes[owner] > budget.tenant_bytes
            ):
                self._drop_oldest(owner)
            while self._total > budget.total_bytes:
                self._drop_oldest(max(self._bytes, key=self._bytes.__getitem__))
        return entry

    def _drop_oldest(self, owner: tuple[str, str | None]) -> None:
        entries = self._entries[owner]
        size = _size(entries.popleft())
        self._bytes[owner] -= size
        self._total -= size
        if not entries:
            del self._entries[owner], self._bytes[owner]

    def entries(self, vendor: str | None = None, tenant: str | None = None) -> list[JournalEntry]:
        """The recorded requests, oldest first, optionally of one vendor and one tenant."""
        with self._lock:
            selected = [
                entry
                for (owner, who), entries in self._entries.items()
                if (vendor is None or owner == vendor) and (tenant is None or who == tenant)
                for entry in entries
            ]
        return sorted(selected, key=lambda entry: entry.sequence)

    def clear(self, vendor: str | None = None, tenant: str | None = None) -> None:
        """Forget the requests of one vendor/tenant, or all."""
        with self._lock:
            for owner, who in list(self._entries):
                if (vendor is None or owner == vendor) and (tenant is None or who == tenant):
                    del self._entries[(owner, who)]
                    self._total -= self._bytes.pop((owner, who))

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.entries())

    def __len__(self) -> int:
        with self._lock:
            return sum(len(entries) for entries in self._entries.values())
