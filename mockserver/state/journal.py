"""The request journal: every request a vendor receives, with credentials redacted, in bounded memory."""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import orjson

if TYPE_CHECKING:  # faults -> state_backends -> journal: only the annotations need it
    from mockserver.state.faults import Fault

REDACTED = "[redacted]"
REDACTED_BYTES = REDACTED.encode()
SECRET_NAME = re.compile(
    r"auth|key|token|secret|cookie|password|passwd|session|credential|signature", re.IGNORECASE
)
DEFAULT_JOURNAL_SIZE = 1000
MAX_KEPT_BODY = 256 * 1024  # response bytes kept per entry (the inspector shows them); the rest is cut
BODY_BUDGET = 32 * 1024 * 1024  # response bytes kept by a whole journal: the oldest bodies are let go first
MAX_KEPT_REQUEST = 4 * 1024  # request body bytes kept per entry (a write's body), counted in the entry's size
# (both defaults of mockserver.limits: --journal-body-bytes, --journal-bodies-bytes)
WATCH_SECONDS = 5.0  # how long a look by the inspector keeps the journal's details on (the page polls 4/s)


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
    raw = query.encode("latin-1")
    redacted = redacted_query(raw)
    return target if redacted is raw else f"{path}?{redacted.decode('latin-1')}"


# Queries seen lately with no secret-looking parameter name (the journal and the request log both ask
# for each request, and a client repeats its queries): at most this many, of at most so many bytes.
CLEAN_QUERIES = 512
CLEAN_QUERY_BYTES = 2048
_clean_queries: dict[bytes, None] = {}


def redacted_query(raw: bytes) -> bytes:
    """The raw query, or (rarely) a copy without the values of secret-looking parameters.

    Only parameter *names* are looked at (a cursor's base64 may well contain "key"). A query found
    clean is remembered (bounded: CLEAN_QUERIES), so asking again is a dictionary look-up.
    """
    if not raw or raw in _clean_queries:
        return raw
    if not any(secret_header(part.split(b"=", 1)[0]) for part in raw.split(b"&")):
        if len(raw) <= CLEAN_QUERY_BYTES:
            if len(_clean_queries) >= CLEAN_QUERIES:
                _clean_queries.clear()
            _clean_queries[raw] = None
        return raw
    pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return urlencode([(name, REDACTED if secret_name(name) else value) for name, value in pairs]).encode()


# A "name": value pair of JSON text (a string value possibly cut short), and a name=value pair of a form.
_JSON_PAIR = re.compile(rb'"((?:[^"\\]|\\.)*)"(\s*:\s*)("(?:[^"\\]|\\.)*(?:"|$)|[^,}\]\s]+)')
_FORM_PAIR = re.compile(rb"(^|&)([^=&]*)=([^&]*)")


def _redacted_tree(value: Any) -> tuple[Any, bool]:
    """A JSON value with the values of secret-looking keys redacted, and whether anything was."""
    if isinstance(value, dict):
        changed = False
        out: dict[str, Any] = {}
        for name, item in value.items():
            if secret_name(name):
                out[name], changed = REDACTED, True
            else:
                out[name], inner = _redacted_tree(item)
                changed = changed or inner
        return out, changed
    if isinstance(value, list):
        pairs = [_redacted_tree(item) for item in value]
        return [item for item, _ in pairs], any(inner for _, inner in pairs)
    return value, False


def redacted_body(body: bytes, limit: int = MAX_KEPT_REQUEST) -> bytes:
    """A request body as the journal keeps it: secret-looking fields redacted, cut to ``limit``.

    JSON within the limit is redacted by key at any depth. A longer body is cut first (the work stays
    bounded) and, like a body that does not parse (a form), has its ``"name": value`` and ``name=value``
    pairs redacted by name, a value cut short included: no secret in the kept bytes escapes.
    """
    if not body:
        return body
    if len(body) <= limit:
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _redacted_pairs(body)
        redacted, changed = _redacted_tree(document)
        body = orjson.dumps(redacted) if changed else body
        return body if len(body) <= limit else body[:limit] + TRUNCATED
    return _redacted_pairs(body[:limit]) + TRUNCATED


def _redacted_pairs(text: bytes) -> bytes:
    return _FORM_PAIR.sub(_redact_form_pair, _JSON_PAIR.sub(_redact_json_pair, text))


def _redact_json_pair(found: re.Match[bytes]) -> bytes:
    if not secret_header(found[1]):
        return found[0]
    return b'"' + found[1] + b'"' + found[2] + b'"' + REDACTED_BYTES + b'"'


def _redact_form_pair(found: re.Match[bytes]) -> bytes:
    if not found[2] or not secret_header(found[2]):
        return found[0]
    return found[1] + found[2] + b"=" + REDACTED_BYTES


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
    latency: float | None = None
    applied: Fault | None = None
    response: bytes = b""
    response_type: str | None = None
    body_dropped: bool = False
    request: bytes = b""  # the request body, redacted and cut (a write's; GETs have none)
    drifts: tuple[str, ...] = ()  # the drifts that changed the answer (mockserver.drifts), by id

    @property
    def latency_ms(self) -> float | None:
        """How long the emulator took to answer, injected delay included, in ms (None: not measured)."""
        return None if self.latency is None else round(self.latency * 1000, 3)

    @property
    def fault(self) -> str | None:
        """The fault that applied, as ``503 (rule 2)``; None when none did (described when read)."""
        return self.applied.describe() if self.applied is not None else None

    @property
    def query(self) -> tuple[tuple[str, str], ...]:
        """The query parameters, secret-looking ones redacted."""
        pairs = parse_qsl(self.raw_query.decode("utf-8", "replace"), keep_blank_values=True)
        return tuple((name, REDACTED if secret_name(name) else value) for name, value in pairs)

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        """The request headers, credentials redacted."""
        return tuple((name.decode("latin-1"), value.decode("latin-1")) for name, value in self.raw_headers)

    @property
    def body(self) -> str | None:
        """The request body as text (secret-looking fields redacted, cut at 4 KiB), None if it had none."""
        return self.request.decode("utf-8", "replace") if self.request else None

    def json(self) -> Any:
        """The request body parsed as JSON; None when there was none or it is not JSON (or was cut)."""
        if not self.request:
            return None
        try:
            return orjson.loads(self.request)
        except orjson.JSONDecodeError:
            return None

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
            "latency_ms": self.latency_ms,
            "fault": self.fault,
            "body": self.body,
            "drifts": list(self.drifts),
        }


@dataclass(frozen=True)
class JournalBudget:
    """The byte budgets of a journal (mockserver.limits sets them from the command line)."""

    tenant_bytes: int = 1024 * 1024
    total_bytes: int = 64 * 1024 * 1024
    header_value_bytes: int = 256
    query_bytes: int = 2048
    max_headers: int = 100
    body_bytes: int = MAX_KEPT_BODY  # of one response body, kept only while an inspector watches
    bodies_bytes: int = BODY_BUDGET  # of all kept response bodies together
    request_bytes: int = MAX_KEPT_REQUEST  # of one request body (always kept; counted in the entry's size)


ENTRY_OVERHEAD = 400  # bytes of an entry's objects besides its strings (measured: about 350 on 3.11)
# The stored (redacted, cut) header tuples of recently seen header lists, shared by their entries: a
# client sends the same headers again and again. At most this many lists of at most so many bytes each
# (64 counted per header for its objects): about 600 KiB in all, keys included.
SEEN_HEADERS = 256
SEEN_HEADER_BYTES = 2048
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
        + len(entry.request)
        + 64 * len(entry.drifts)
        + _header_size(entry.raw_headers)
    )


def _header_size(headers: tuple[tuple[bytes, bytes], ...]) -> int:
    """What stored headers count in an entry's size."""
    return 120 * len(headers) + sum(map(len, itertools.chain.from_iterable(headers)))  # every name, value


class Journal:
    """The last ``size`` requests of each vendor and tenant; older ones fall off (memory stays bounded).

    Bounded per (vendor, tenant), so a busy tenant never evicts another tenant's requests.
    """

    def __init__(self, size: int = DEFAULT_JOURNAL_SIZE, budget: JournalBudget | None = None) -> None:
        self.size = size
        self.budget = budget or JournalBudget()
        self._entries: dict[tuple[str, str | None], deque[JournalEntry]] = {}
        self._sizes: dict[tuple[str, str | None], deque[int]] = {}  # each entry's counted bytes, in step
        # See SEEN_HEADERS: the stored tuple of a header list seen lately, and what it counts in a size.
        self._seen: dict[tuple[object, ...], tuple[tuple[tuple[bytes, bytes], ...], int]] = {}
        self._counts_here = type(self)._store is Journal._store  # not a subclass that stores elsewhere
        self._bytes: dict[tuple[str, str | None], int] = {}
        self._total = 0
        self._sequence = itertools.count(1)
        self._lock = threading.Lock()
        self._with_body: deque[JournalEntry] = deque()  # oldest first, holding _body_bytes in all
        self._body_bytes = 0
        self._bodies = 0  # entries of _with_body that still hold a body
        self.watching = False  # an inspector looked within WATCH_SECONDS: keep latency, fault and body
        self._watched_until = 0.0
        # Told of each recorded entry while an inspector follows the journal (inspector_events), else None.
        self.listener: Callable[[JournalEntry], None] | None = None

    def watch(self, seconds: float = WATCH_SECONDS) -> None:
        """Keep the details of the next requests for ``seconds`` (the inspector calls this on each poll)."""
        self._watched_until = time.monotonic() + seconds
        self.watching = True

    @property
    def stored_bytes(self) -> int:
        """The approximate size of everything stored (the budget counts this)."""
        return self._total

    @property
    def body_bytes(self) -> tuple[int, int]:
        """The response bytes kept for the inspector, and how many entries the queue of bodies holds."""
        with self._lock:
            return self._body_bytes, len(self._with_body)

    def compact(
        self,
        vendor: str,
        tenant: str | None,
        scope: Mapping[str, Any],
        *,
        path: str,
        status: int,
        secret_headers: frozenset[bytes],
        latency: float | None = None,
        fault: Fault | None = None,
        response: bytes = b"",
        response_type: str | None = None,
        request: bytes = b"",
        drifts: tuple[str, ...] = (),
    ) -> JournalEntry:
        """The entry as it is stored (not numbered yet): redacted, cut to the budget, compact if
        unauthenticated, its response body (if any) cut to ``budget.body_bytes``. Every journal,
        in-process or shared, stores only this."""
        return self._compact(
            vendor, tenant, scope, path, status, secret_headers, latency, fault, response, response_type,
            request, drifts,
        )[0]  # fmt: skip

    def _compact(  # noqa: PLR0917 - by position: on every request, where keywords cost
        self,
        vendor: str,
        tenant: str | None,
        scope: Mapping[str, Any],
        path: str,
        status: int,
        secret_headers: frozenset[bytes],
        latency: float | None,
        fault: Fault | None,
        response: bytes,
        response_type: str | None,
        request: bytes,
        drifts: tuple[str, ...],
    ) -> tuple[JournalEntry, int]:
        """``compact``, its arguments by position (on every request), and the entry's ``_size``."""
        budget = self.budget
        headers, size = ((), 0) if tenant is None else self._counted_headers(scope["headers"], secret_headers)
        query = redacted_query(scope["query_string"][: budget.query_bytes])
        limit = budget.body_bytes
        kept = response if not response or len(response) <= limit else response[:limit]
        request = redacted_body(request, budget.request_bytes) if request else b""
        path = path[: budget.query_bytes]
        entry = JournalEntry(
            0, time.time(), vendor, tenant, scope["method"], path, query, headers, status, latency, fault,
            kept, response_type, False, request, drifts,
        )  # fmt: skip
        return entry, size + ENTRY_OVERHEAD + len(path) + len(query) + len(request) + 64 * len(drifts)

    def record(
        self,
        vendor: str,
        tenant: str | None,
        scope: Mapping[str, Any],
        *,
        path: str,
        status: int,
        secret_headers: frozenset[bytes],
        latency: float | None = None,
        fault: Fault | None = None,
        response: bytes = b"",
        response_type: str | None = None,
        request: bytes = b"",
        drifts: tuple[str, ...] = (),
    ) -> JournalEntry:
        """Add one request; credentials are replaced, and long values cut, before anything is stored.

        An unauthenticated request (``tenant`` None) is kept in a compact form: no headers at all.
        The response body (only passed while an inspector watches) is kept by reference (replies are
        immutable), cut to ``budget.body_bytes``; all kept bodies together stay within
        ``budget.bodies_bytes``, the oldest let go first. Bodies have this budget of their own, apart
        from the entries' byte budgets (``--journal-body-bytes``, ``--journal-bodies-bytes``).
        The request body (a write's) is always kept, redacted and cut to ``budget.request_bytes``,
        as part of the entry (its bytes count in the entry's size).
        """
        entry, size = self._compact(
            vendor, tenant, scope, path, status, secret_headers, latency, fault, response, response_type,
            request, drifts,
        )  # fmt: skip
        if self._counts_here:  # its size at hand: not walked again
            self._keep(entry, size)
        else:
            self._store(entry)
        if self.listener is not None:
            self.listener(entry)
        if latency is not None and time.monotonic() > self._watched_until:
            self.watching = False  # nobody looked for a while: back to the plain journal
        return entry

    def _stored_headers(self, raw: Any, secret_headers: frozenset[bytes]) -> tuple[tuple[bytes, bytes], ...]:
        """:func:`_stored_headers`, shared with the entries of the same header list seen lately."""
        return self._counted_headers(raw, secret_headers)[0]

    def _counted_headers(
        self, raw: Any, secret_headers: frozenset[bytes]
    ) -> tuple[tuple[tuple[bytes, bytes], ...], int]:
        """The stored headers (shared with the entries of the same header list seen lately) and their size."""
        try:
            key = (secret_headers, *raw)
            seen = self._seen.get(key)
        except TypeError:  # [name, value] lists (ASGI allows them): nothing to share
            stored = _stored_headers(raw, secret_headers, self.budget)
            return stored, _header_size(stored)
        if seen is None:
            stored = _stored_headers(raw, secret_headers, self.budget)
            seen = (stored, _header_size(stored))
            if sum(len(name) + len(value) + 64 for name, value in raw) <= SEEN_HEADER_BYTES:
                if len(self._seen) >= SEEN_HEADERS:
                    self._seen.clear()
                self._seen[key] = seen
        return seen

    def _store(self, entry: JournalEntry) -> None:
        """Number and keep a compact entry, within the entry and byte budgets (a shared journal sends it)."""
        self._keep(entry, _size(entry))

    def _keep(self, entry: JournalEntry, size: int) -> None:
        """``_store`` of an entry whose size (``_size``) is known."""
        budget = self.budget
        owner = (entry.vendor, entry.tenant)
        with self._lock:
            entry.sequence = next(self._sequence)
            entries = self._entries.get(owner)
            if entries is None:
                entries = self._entries[owner] = deque()
                self._sizes[owner] = deque()
                self._bytes[owner] = 0
            entries.append(entry)
            sizes = self._sizes[owner]
            sizes.append(size)
            held = self._bytes[owner] + size
            total = self._total + size
            if entry.response:
                self._keep_body(entry)
            while len(entries) > self.size or held > budget.tenant_bytes:  # once full: one at a time
                oldest = entries.popleft()
                dropped = sizes.popleft()
                held -= dropped
                total -= dropped
                if oldest.response:
                    self._release_body(oldest)
                if not entries:
                    break
            self._total = total
            if entries:
                self._bytes[owner] = held
            else:
                del self._entries[owner], self._sizes[owner], self._bytes[owner]
            while self._total > budget.total_bytes:
                self._drop_oldest(max(self._bytes, key=self._bytes.__getitem__))

    def _drop_oldest(self, owner: tuple[str, str | None]) -> None:
        entries = self._entries[owner]
        oldest = entries.popleft()
        size = self._sizes[owner].popleft()
        self._bytes[owner] -= size
        self._total -= size
        self._release_body(oldest)
        if not entries:
            del self._entries[owner], self._sizes[owner], self._bytes[owner]

    def _release_body(self, entry: JournalEntry) -> None:
        """Let an entry's body go (its entry fell off); the queue of bodies forgets it lazily."""
        if entry.response:
            self._body_bytes -= len(entry.response)
            self._bodies -= 1
            entry.response = b""

    def _keep_body(self, entry: JournalEntry) -> None:
        """Count a kept body against the budget; over it, the oldest entries let their bodies go."""
        self._with_body.append(entry)
        self._body_bytes += len(entry.response)
        self._bodies += 1
        while self._body_bytes > self.budget.bodies_bytes and self._with_body:
            oldest = self._with_body.popleft()
            if oldest.response:
                self._body_bytes -= len(oldest.response)
                self._bodies -= 1
                oldest.response = b""
                oldest.body_dropped = True
        while self._with_body and not self._with_body[0].response:
            self._with_body.popleft()  # released when its entry fell off
        if len(self._with_body) > 2 * self._bodies + 64:  # many released in the middle: compact
            self._with_body = deque(item for item in self._with_body if item.response)

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

    def find(self, sequence: int) -> JournalEntry | None:
        """The entry with this sequence number, if it is still kept."""
        with self._lock:
            for entries in self._entries.values():
                if entries and entries[0].sequence <= sequence <= entries[-1].sequence:
                    for entry in entries:
                        if entry.sequence == sequence:
                            return entry
        return None

    def latest(self) -> int:
        """The sequence number of the newest entry ever recorded (0 before the first)."""
        with self._lock:
            return max((entries[-1].sequence for entries in self._entries.values() if entries), default=0)

    def tenants(self) -> set[tuple[str, str | None]]:
        """The (vendor, tenant) pairs with requests kept."""
        with self._lock:
            return {owner for owner, entries in self._entries.items() if entries}

    def clear(self, vendor: str | None = None, tenant: str | None = None) -> None:
        """Forget the requests of one vendor/tenant, or all."""
        with self._lock:
            cleared = False  # nothing to drop (a reset of a vendor nobody called): no body queue rebuilt
            for owner, who in list(self._entries):
                if (vendor is None or owner == vendor) and (tenant is None or who == tenant):
                    for entry in self._entries.pop((owner, who)):
                        self._release_body(entry)
                    del self._sizes[(owner, who)]
                    self._total -= self._bytes.pop((owner, who))
                    cleared = True
            if cleared:
                self._with_body = deque(item for item in self._with_body if item.response)

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.entries())

    def __len__(self) -> int:
        with self._lock:
            return sum(len(entries) for entries in self._entries.values())
