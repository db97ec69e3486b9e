"""The request journal: every request a vendor receives, with credentials redacted, in bounded memory."""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

REDACTED = "[redacted]"
SECRET_HEADER = re.compile(r"authorization|api[-_]?key|token|secret|cookie|password", re.IGNORECASE)
DEFAULT_JOURNAL_SIZE = 1000


def redact(
    headers: Iterable[tuple[str, str]], secret_headers: Iterable[str] = ()
) -> tuple[tuple[str, str], ...]:
    """Headers with every credential replaced: the vendor's auth headers and anything that looks like one."""
    named = {name.lower() for name in secret_headers}
    return tuple(
        (name, REDACTED if name.lower() in named or SECRET_HEADER.search(name) else value)
        for name, value in headers
    )


@dataclass(frozen=True)
class JournalEntry:
    """One request as the emulator saw it, and the status it answered."""

    sequence: int
    at: float
    vendor: str
    tenant: str | None
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    status: int

    def param(self, name: str) -> str | None:
        """The (first) value of query parameter ``name``."""
        return next((value for key, value in self.query if key == name), None)

    def matches(self, *, method: str | None = None, path: str | None = None, **params: Any) -> bool:
        """True when every given attribute and query parameter has the given value."""
        if method is not None and self.method != method.upper():
            return False
        if path is not None and self.path != path:
            return False
        return all(
            self.param(name) == (None if value is None else str(value)) for name, value in params.items()
        )

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


class Journal:
    """The last ``size`` requests of every vendor; older entries fall off (memory stays bounded)."""

    def __init__(self, size: int = DEFAULT_JOURNAL_SIZE) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=size)
        self._sequence = itertools.count(1)
        self._lock = threading.Lock()

    def record(
        self,
        vendor: str,
        tenant: str | None,
        scope: Mapping[str, Any],
        *,
        path: str,
        status: int,
        secret_headers: Iterable[str],
    ) -> JournalEntry:
        """Add one request."""
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]]
        query = tuple(parse_qsl(scope["query_string"].decode("utf-8", "replace"), keep_blank_values=True))
        with self._lock:
            entry = JournalEntry(
                next(self._sequence), time.time(), vendor, tenant, scope["method"], path, query,
                redact(headers, secret_headers), status,
            )  # fmt: skip
            self._entries.append(entry)
        return entry

    def entries(self, vendor: str | None = None, tenant: str | None = None) -> list[JournalEntry]:
        """The recorded requests, oldest first, optionally of one vendor and one tenant."""
        with self._lock:
            snapshot = list(self._entries)
        return [
            entry
            for entry in snapshot
            if (vendor is None or entry.vendor == vendor) and (tenant is None or entry.tenant == tenant)
        ]

    def clear(self, vendor: str | None = None, tenant: str | None = None) -> None:
        """Forget the requests of one vendor/tenant, or all."""
        with self._lock:
            kept = [
                entry
                for entry in self._entries
                if not (
                    (vendor is None or entry.vendor == vendor) and (tenant is None or entry.tenant == tenant)
                )
            ]
            self._entries.clear()
            self._entries.extend(kept)

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self._entries)
