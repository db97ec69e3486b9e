"""The request journal of every process, kept in Redis (see redis_state for the whole backend)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import orjson
from redis.exceptions import RedisError

from mockserver.state.backends.base import StateUnavailable
from mockserver.state.backends.redis_connection import NO_TENANT, RedisConnection, text
from mockserver.state.faults import Fault
from mockserver.state.journal import WATCH_SECONDS, Journal, JournalBudget, JournalEntry

PENDING_JOURNAL_MAX = 10_000  # entries waiting for Redis (while it is away); the oldest are dropped
BATCH_SECONDS = 0.05
RUN_BYTES = 1024 * 1024  # a longer run of one key goes as several (Redis takes 512 MB per argument)

# KEYS: sequence, set of journal keys, hash of bytes per key, total bytes, hash of response bodies (by
# sequence), list of sequences with a body (oldest first), bytes of bodies in all. ARGV: entries per key,
# bytes per key (tenant), bytes in all, bytes of bodies in all, the number of entries in the batch, the
# number of runs, then (key, entries) per run, then (index in the batch, body) per entry with a body.
# A run is consecutive entries of one key, their stored forms (JSON: never a raw newline) joined by
# newlines: the batch keeps the process's order across keys (sequence numbers), in one RPUSH per run
# rather than some 15 Redis calls per entry. Then, per key written: the oldest entries go first, of the
# same key while it is over its size or budget, then of the largest key while the total is over (issue
# 11's); bodies (issue 15's, only while an inspector looks) have their own budget: over it the oldest
# bodies are let go (their field kept empty: "dropped") before any entry goes.
JOURNAL_SCRIPT = """
local size = tonumber(ARGV[1])
local key_budget = tonumber(ARGV[2])
local total_budget = tonumber(ARGV[3])
local bodies_budget = tonumber(ARGV[4])
local count = tonumber(ARGV[5])
local runs = tonumber(ARGV[6])
local first = redis.call('INCRBY', KEYS[1], count) - count
local sequence = first
local added, order = {}, {}
for i = 7, 6 + 2 * runs, 2 do
  local key = ARGV[i]
  local items, bytes = {}, 0
  local run, start = ARGV[i + 1], 1
  while start <= #run do  -- a plain find (memchr) and %d: a pattern and a number's %.14g cost more
    local stop = string.find(run, '\\n', start, true)
    sequence = sequence + 1
    local item = string.format('%d %s', sequence, string.sub(run, start, stop - 1))
    start = stop + 1
    items[#items + 1] = item
    bytes = bytes + #item
    if #items == 1000 then
      redis.call('RPUSH', key, unpack(items))
      items = {}
    end
  end
  if #items > 0 then redis.call('RPUSH', key, unpack(items)) end
  if added[key] == nil then
    added[key] = 0
    order[#order + 1] = key
  end
  added[key] = added[key] + bytes
end
for _, key in ipairs(order) do
  redis.call('SADD', KEYS[2], key)
  redis.call('HINCRBY', KEYS[3], key, added[key])
  redis.call('INCRBY', KEYS[4], added[key])
end
for i = 7 + 2 * runs, #ARGV, 2 do
  local at = first + tonumber(ARGV[i])
  local body = ARGV[i + 1]
  redis.call('HSET', KEYS[5], at, body)
  redis.call('RPUSH', KEYS[6], at)
  redis.call('INCRBY', KEYS[7], #body)
  while tonumber(redis.call('GET', KEYS[7]) or '0') > bodies_budget do
    local oldest = redis.call('LPOP', KEYS[6])
    if not oldest then break end
    local held = redis.call('HGET', KEYS[5], oldest)
    if held then
      redis.call('DECRBY', KEYS[7], #held)
      redis.call('HSET', KEYS[5], oldest, '')
    end
  end
end
local with_bodies = redis.call('EXISTS', KEYS[5]) == 1
local function forget_body(item)
  if not with_bodies then return end
  local at = string.match(item, '^(%d+) ')
  local body = redis.call('HGET', KEYS[5], at)
  if body then
    redis.call('HDEL', KEYS[5], at)
    if #body > 0 then
      redis.call('DECRBY', KEYS[7], #body)
      redis.call('LREM', KEYS[6], 1, at)
    end
  end
end
local function forget_key_if_empty(key)
  if redis.call('LLEN', key) == 0 then
    redis.call('SREM', KEYS[2], key)
    redis.call('HDEL', KEYS[3], key)
  end
end
local function drop(key)
  local item = redis.call('LPOP', key)
  if item then
    redis.call('HINCRBY', KEYS[3], key, -#item)
    redis.call('DECRBY', KEYS[4], #item)
    forget_body(item)
  end
  forget_key_if_empty(key)
end
for _, key in ipairs(order) do
  local excess = redis.call('LLEN', key) - size
  if excess > 0 then
    local gone, bytes = redis.call('LRANGE', key, 0, excess - 1), 0
    redis.call('LTRIM', key, excess, -1)
    for _, item in ipairs(gone) do
      bytes = bytes + #item
      forget_body(item)
    end
    redis.call('HINCRBY', KEYS[3], key, -bytes)
    redis.call('DECRBY', KEYS[4], bytes)
    forget_key_if_empty(key)
  end
  while redis.call('LLEN', key) > 0 and tonumber(redis.call('HGET', KEYS[3], key) or '0') > key_budget do
    drop(key)
  end
end
while tonumber(redis.call('GET', KEYS[4]) or '0') > total_budget do
  local held = redis.call('HGETALL', KEYS[3])
  local largest, most = nil, -1
  for j = 1, #held, 2 do
    if tonumber(held[j + 1]) > most then largest, most = held[j], tonumber(held[j + 1]) end
  end
  if largest == nil then break end
  drop(largest)
end
return 1
"""

# KEYS: set of journal keys, hash of bytes per key, total bytes, hash of bodies, list of sequences with
# a body, bytes of bodies; ARGV: the journal keys to delete (their entries' bodies go with them).
CLEAR_SCRIPT = """
for i = 1, #ARGV do
  for _, item in ipairs(redis.call('LRANGE', ARGV[i], 0, -1)) do
    local sequence = string.match(item, '^(%d+) ')
    local body = redis.call('HGET', KEYS[4], sequence)
    if body then
      redis.call('HDEL', KEYS[4], sequence)
      if #body > 0 then
        redis.call('DECRBY', KEYS[6], #body)
        redis.call('LREM', KEYS[5], 1, sequence)
      end
    end
  end
  local held = tonumber(redis.call('HGET', KEYS[2], ARGV[i]) or '0')
  redis.call('DECRBY', KEYS[3], held)
  redis.call('HDEL', KEYS[2], ARGV[i])
  redis.call('SREM', KEYS[1], ARGV[i])
  redis.call('DEL', ARGV[i])
end
return 1
"""


# The stored form of recently seen header tuples (the in-process journal shares one tuple between the
# entries of the same header list: see journal.SEEN_HEADERS): at most this many, of at most so many
# bytes each, about 1 MiB in all with their keys.
SEEN_HEADERS = 256
SEEN_HEADER_BYTES = 2048
_seen_headers: dict[tuple[tuple[bytes, bytes], ...], orjson.Fragment] = {}


def _stored_headers(headers: tuple[tuple[bytes, bytes], ...]) -> orjson.Fragment:
    """The headers' JSON (``[[name, value], ...]``, latin-1), computed once per header list seen lately."""
    stored = _seen_headers.get(headers)
    if stored is None:
        raw = orjson.dumps([[name.decode("latin-1"), value.decode("latin-1")] for name, value in headers])
        stored = orjson.Fragment(raw)
        if len(raw) <= SEEN_HEADER_BYTES:
            if len(_seen_headers) >= SEEN_HEADERS:
                _seen_headers.clear()
            _seen_headers[headers] = stored
    return stored


def _encode(entry: JournalEntry) -> bytes:
    """The stored form (the response body goes apart, under its own budget; a request body is part of
    the entry); latency and fault only while an inspector looked, as in the in-process journal."""
    item: dict[str, Any] = {
        "at": entry.at, "vendor": entry.vendor, "tenant": entry.tenant, "method": entry.method,
        "path": entry.path, "query": entry.raw_query.decode("latin-1"), "status": entry.status,
        "headers": _stored_headers(entry.raw_headers),
    }  # fmt: skip
    if entry.request:  # a write's body, already redacted and cut: counted in the entry's stored bytes
        item["body"] = entry.request.decode("latin-1")
    if entry.latency is not None:
        item["latency"] = entry.latency
        item["type"] = entry.response_type
    if entry.drifts:
        item["drifts"] = list(entry.drifts)
    if entry.applied is not None:
        fault = entry.applied
        item["fault"] = [fault.status, fault.delay, list(fault.rules), fault.asked]
    return orjson.dumps(item)


def _batch_arguments(batch: list[JournalEntry], key: Callable[[str, str | None], str]) -> list[Any]:
    """The script's arguments after the budgets: the entries, in runs of one key, then the bodies.

    Each stored form is appended to its run's buffer at once: an orjson result freed right away reuses
    the allocator's memory, while a thousand kept alive until the call cost about 2 µs each more."""
    runs: list[Any] = []
    bodies: list[Any] = []
    owner: tuple[str, str | None] | None = None
    run = bytearray()
    for index, entry in enumerate(batch, start=1):
        if (entry.vendor, entry.tenant) != owner or len(run) > RUN_BYTES:
            if owner is not None:
                runs += [key(*owner), bytes(run)]
                run.clear()
            owner = (entry.vendor, entry.tenant)
        run += _encode(entry)
        run += b"\n"
        if entry.response:
            bodies += [index, entry.response]
    if owner is not None:
        runs += [key(*owner), bytes(run)]
    return [len(batch), len(runs) // 2, *runs, *bodies]


def _decode(raw: bytes, body: bytes | None = None) -> JournalEntry:
    sequence, _, payload = raw.partition(b" ")
    item = orjson.loads(payload)
    headers = tuple((name.encode("latin-1"), value.encode("latin-1")) for name, value in item["headers"])
    found = item.get("fault")
    fault = Fault(found[0], found[1], tuple(found[2]), found[3]) if found else None
    return JournalEntry(
        int(sequence), item["at"], item["vendor"], item["tenant"], item["method"], item["path"],
        item["query"].encode("latin-1"), headers, item["status"], item.get("latency"), fault,
        body or b"", item.get("type"), body == b"", item.get("body", "").encode("latin-1"),
        tuple(item.get("drifts", ())),
    )  # fmt: skip


class SharedJournal(Journal):
    """The journal of every process, in Redis: entries are recorded here and written in batches.

    Bounded like the in-process journal: entries are the same compact, redacted, cut copies; in Redis
    the last ``size`` requests per vendor and tenant within the budget's bytes per tenant and in all
    (the stored bytes, counted by the script), the response bodies kept while an inspector looks within
    their own budget (``bodies_bytes``, each cut to ``body_bytes`` before it leaves the process); in this
    process at most PENDING_JOURNAL_MAX entries waiting while Redis is away. Reads (the admin API, the
    inspector, the test client) first have every process write what it holds, so they see every
    process's requests. An inspector's look turns the details on in every process (``watch``).
    """

    def __init__(self, link: RedisConnection, size: int, budget: JournalBudget | None = None) -> None:
        super().__init__(size, budget)
        self.link = link
        self._journal_script = link.client.register_script(JOURNAL_SCRIPT)
        self._clear_script = link.client.register_script(CLEAR_SCRIPT)
        self._pending: deque[JournalEntry] = deque(maxlen=PENDING_JOURNAL_MAX)
        self._wake = threading.Event()
        self._writing = threading.Lock()
        self._told_until = 0.0

    def _key(self, vendor: str, tenant: str | None) -> str:
        return self.link.key("journal", vendor) + "\x00" + (NO_TENANT if tenant is None else tenant)

    def watch(self, seconds: float = WATCH_SECONDS) -> None:
        """Keep the details here and, told at most once a second (no wait), in every other process."""
        super().watch(seconds)
        now = time.monotonic()
        if now < self._told_until:
            return
        self._told_until = now + min(1.0, seconds / 2)
        with contextlib.suppress(RedisError):  # unreachable: the other processes keep the plain journal
            self.link.announce(self.link.client.pipeline(transaction=False), "", "watch", False)

    def _store(self, entry: JournalEntry) -> None:
        # Kept only until written to Redis (not in this process's lists): no Redis round trip here, the
        # writer thread sends a batch, which Redis numbers and trims to the same budgets.
        self._pending.append(entry)
        if not self._wake.is_set():  # once per batch: setting an Event takes a lock
            self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def run(self) -> None:
        """The writer thread: a batch every BATCH_SECONDS at most (a journal read flushes at once). It
        sleeps until a request comes (``close`` wakes it too); entries Redis refused are retried."""
        while not self.link.stopping.is_set():
            self._wake.wait(timeout=0.5 if self._pending else None)
            self.link.stopping.wait(BATCH_SECONDS)  # let a batch form: one script call for many requests
            self._wake.clear()
            with contextlib.suppress(StateUnavailable):
                self.flush()
            if self._pending and not self.link.available:
                self.link.stopping.wait(0.2)

    def flush(self) -> None:
        """Write the pending entries (one script call); on failure they stay pending."""
        with self._writing:
            batch = list(self._pending)
            if not batch:
                return
            for _ in batch:
                self._pending.popleft()
            budget = self.budget
            arguments: list[Any] = [self.size, budget.tenant_bytes, budget.total_bytes, budget.bodies_bytes]
            arguments += _batch_arguments(batch, self._key)
            try:
                self._journal_script(keys=self._budget_keys(sequence=True), args=arguments)
            except RedisError as error:
                # Back in front of what came meanwhile; over the bound the oldest go, as when appended
                # (a full deque's extendleft would drop the newest instead).
                room = max(0, (self._pending.maxlen or len(batch)) - len(self._pending))
                self._pending.extendleft(reversed(batch[max(0, len(batch) - room) :]))
                raise self.link.unavailable(error) from None

    def _budget_keys(self, *, sequence: bool) -> list[str]:
        names = ["keys", "bytes", "total", "bodies", "bodies-order", "bodies-total"]
        return [self.link.key("journal", name) for name in (["sequence", *names] if sequence else names)]

    def _stored_keys(self, vendor: str | None, tenant: str | None) -> list[str]:
        keys = [text(key) for key in self.link.client.smembers(self.link.key("journal", "keys"))]
        chosen = []
        for key in keys:
            owner, _, who = key[len(self.link.key("journal", "")) :].partition("\x00")
            if (vendor is None or owner == vendor) and (tenant is None or who == tenant):
                chosen.append(key)
        return chosen

    def _read_all(self) -> None:
        self.link.flush_everywhere()
        self.flush()

    def entries(self, vendor: str | None = None, tenant: str | None = None) -> list[JournalEntry]:
        """Every process's entries (without their bodies: ``find`` reads one entry in full)."""
        self._read_all()
        try:
            keys = self._stored_keys(vendor, tenant)
            pipe = self.link.client.pipeline(transaction=False)
            for key in keys:
                pipe.lrange(key, 0, -1)
            lists = pipe.execute() if keys else []
        except RedisError as error:
            raise self.link.unavailable(error) from None
        found = [_decode(raw) for items in lists for raw in items]
        return sorted(found, key=lambda entry: entry.sequence)

    def find(self, sequence: int) -> JournalEntry | None:
        """The entry with this sequence number, with its response body, if Redis still keeps it."""
        self._read_all()
        try:
            keys = self._stored_keys(None, None)
            pipe = self.link.client.pipeline(transaction=False)
            for key in keys:
                pipe.lindex(key, 0)
                pipe.lindex(key, -1)
            ends = pipe.execute() if keys else []
            for index, key in enumerate(keys):
                first, last = ends[2 * index], ends[2 * index + 1]
                if first is None or last is None:
                    continue
                if int(first.partition(b" ")[0]) <= sequence <= int(last.partition(b" ")[0]):
                    items: list[bytes] = self.link.client.lrange(key, 0, -1)  # type: ignore[assignment]
                    for raw in items:
                        if int(raw.partition(b" ")[0]) == sequence:
                            body = self.link.client.hget(self.link.key("journal", "bodies"), str(sequence))
                            return _decode(raw, body if isinstance(body, bytes) else None)
        except RedisError as error:
            raise self.link.unavailable(error) from None
        return None

    def latest(self) -> int:
        """The sequence number of the newest entry of any process (0 before the first)."""
        self._read_all()
        try:
            raw = self.link.client.get(self.link.key("journal", "sequence"))
        except RedisError as error:
            raise self.link.unavailable(error) from None
        return int(raw) if raw is not None else 0

    def tenants(self) -> set[tuple[str, str | None]]:
        """The (vendor, tenant) pairs with requests kept in Redis."""
        self._read_all()
        try:
            keys = self._stored_keys(None, None)
        except RedisError as error:
            raise self.link.unavailable(error) from None
        found: set[tuple[str, str | None]] = set()
        for key in keys:
            owner, _, who = key[len(self.link.key("journal", "")) :].partition("\x00")
            found.add((owner, None if who == NO_TENANT else who))
        return found

    @property
    def body_bytes(self) -> tuple[int, int]:
        """The response bytes kept in Redis for the inspector, and how many bodies are queued."""
        try:
            pipe = self.link.client.pipeline(transaction=False)
            pipe.get(self.link.key("journal", "bodies-total"))
            pipe.llen(self.link.key("journal", "bodies-order"))
            total, queued = pipe.execute()
        except RedisError as error:
            raise self.link.unavailable(error) from None
        return int(total or 0), int(queued)

    def clear(self, vendor: str | None = None, tenant: str | None = None) -> None:
        super().clear(vendor, tenant)
        if self.link.is_applying():
            return
        self._read_all()
        try:
            keys = self._stored_keys(vendor, tenant)
            if keys:
                self._clear_script(keys=self._budget_keys(sequence=False), args=keys)
        except RedisError as error:
            raise self.link.unavailable(error) from None

    def __len__(self) -> int:
        return len(self.entries())
