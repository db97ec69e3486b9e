"""State shared through Redis: several emulator processes (``serve --workers N``) or hosts, one state.

Every process still answers vendor requests from its own memory. What callers change is written to
Redis first (a hash per vendor holds each part's current value), then announced on a pub/sub channel;
every process applies the change to its own memory (a seeded dataset is rebuilt there, with its
indexes) and confirms, and the admin call returns once every live process has confirmed, so the next
request sees the change whichever process answers it. A process that starts, or that gets Redis back
after losing it, loads the whole stored state.

On a vendor request there is no Redis round trip, except where the answer depends on all processes'
requests: a counted fault (``times``: the countdown is kept in Redis) and, when rate limits are on,
the sliding windows (a Lua script per request). The journal is written in batches by a background
thread; reading it asks every process to write what it holds first.

While Redis is unreachable: vendor requests are answered from memory (a counted fault answers 503 in
the vendor's error shape; rate limits fall back to this process's own windows); admin writes and
journal reads answer 503 ``state_unavailable`` and change nothing; journal entries wait in a bounded
buffer. When Redis is back, every process reloads the stored state.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
import redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from mockserver.errors import ConfigurationError
from mockserver.state.backends.base import Applier, StateUnavailable, redacted_url
from mockserver.state.faults import Fault
from mockserver.state.journal import WATCH_SECONDS, Journal, JournalBudget, JournalEntry
from mockserver.state.rate_limiter import RateLimiter, Verdict, Window

logger = logging.getLogger("mockserver")
DEFAULT_PREFIX = "vendor-emulator:"
ACK_TIMEOUT_SECONDS = 2.0
PENDING_JOURNAL_MAX = 10_000  # entries waiting for Redis (while it is away); the oldest are dropped
NO_TENANT = "\x01"
BATCH_SECONDS = 0.05
LOCK_SECONDS = 10.0  # a cap-checked change holds the vendor's lock at most this long (a crashed holder)
UNLOCK_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
HEARTBEAT_SECONDS = 1.0  # each process says it is alive this often; writes wait for the live ones

# KEYS: sequence, set of journal keys, hash of bytes per key, total bytes, hash of response bodies (by
# sequence), list of sequences with a body (oldest first), bytes of bodies in all. ARGV: entries per key,
# bytes per key (tenant), bytes in all, bytes of bodies in all, then (key, entry, body) triples. The
# oldest entries go first, of the same key while it is over its budget, then of the largest key while the
# total is over (issue 11's); bodies (issue 15's, only while an inspector looks) have their own budget:
# over it the oldest bodies are let go (their field kept empty: "dropped") before any entry goes.
JOURNAL_SCRIPT = """
local size = tonumber(ARGV[1])
local key_budget = tonumber(ARGV[2])
local total_budget = tonumber(ARGV[3])
local bodies_budget = tonumber(ARGV[4])
local function forget_body(item)
  local sequence = string.match(item, '^(%d+) ')
  local body = redis.call('HGET', KEYS[5], sequence)
  if body then
    redis.call('HDEL', KEYS[5], sequence)
    if #body > 0 then
      redis.call('DECRBY', KEYS[7], #body)
      redis.call('LREM', KEYS[6], 1, sequence)
    end
  end
end
local function drop(key)
  local item = redis.call('LPOP', key)
  if item then
    redis.call('HINCRBY', KEYS[3], key, -#item)
    redis.call('DECRBY', KEYS[4], #item)
    forget_body(item)
  end
  if redis.call('LLEN', key) == 0 then
    redis.call('SREM', KEYS[2], key)
    redis.call('HDEL', KEYS[3], key)
  end
end
for i = 5, #ARGV, 3 do
  local key = ARGV[i]
  local sequence = redis.call('INCR', KEYS[1])
  local item = sequence .. ' ' .. ARGV[i + 1]
  local body = ARGV[i + 2]
  redis.call('RPUSH', key, item)
  redis.call('SADD', KEYS[2], key)
  redis.call('HINCRBY', KEYS[3], key, #item)
  redis.call('INCRBY', KEYS[4], #item)
  if #body > 0 then
    redis.call('HSET', KEYS[5], sequence, body)
    redis.call('RPUSH', KEYS[6], sequence)
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
  while redis.call('LLEN', key) > 0 and (redis.call('LLEN', key) > size
      or tonumber(redis.call('HGET', KEYS[3], key) or '0') > key_budget) do
    drop(key)
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

RATE_SCRIPT = """
local now = tonumber(ARGV[1])
local n = #KEYS
local counts = {}
local first_full = 0
local wait = -1
for i = 1, n do
  local requests = tonumber(ARGV[1 + 2 * i])
  local seconds = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - seconds)
  local count = redis.call('ZCARD', KEYS[i])
  counts[i] = count
  if count >= requests then
    local oldest = tonumber(redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')[2])
    if oldest + seconds - now > wait then wait = oldest + seconds - now end
    if first_full == 0 then first_full = i end
  end
end
if first_full > 0 then return {0, first_full, 0, tostring(wait)} end
local best = 0
local best_room = nil
local best_wait = 0
for i = 1, n do
  local requests = tonumber(ARGV[1 + 2 * i])
  local seconds = tonumber(ARGV[2 + 2 * i])
  redis.call('ZADD', KEYS[i], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[i], math.ceil(seconds * 1000) + 1000)
  redis.call('SADD', ARGV[3 + 2 * n], KEYS[i])
  local room = requests - (counts[i] + 1)
  if best_room == nil or room < best_room then
    best_room = room
    best = i
    local oldest = tonumber(redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')[2])
    best_wait = oldest + seconds - now
  end
end
return {1, best, best_room, tostring(best_wait)}
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _split_prefix(url: str) -> tuple[str, str]:
    """The URL without our ``prefix`` query parameter, and the prefix (keys and channel start with it)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((value for name, value in query if name == "prefix"), DEFAULT_PREFIX)
    rest = urlencode([(name, value) for name, value in query if name != "prefix"])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, rest, parts.fragment)), prefix


class RedisState:
    """The Redis backend (see the module docstring); ``url`` as redis-py takes it, plus ``?prefix=``."""

    shared = True

    def __init__(self, url: str, *, ack_timeout: float = ACK_TIMEOUT_SECONDS) -> None:
        address, self.prefix = _split_prefix(url)
        self.url = redacted_url(url)
        options: dict[str, Any] = {"socket_connect_timeout": 1.0, "retry": Retry(NoBackoff(), 0)}
        self.client = redis.Redis.from_url(address, socket_timeout=2.0, **options)
        self._listener_client = redis.Redis.from_url(address, socket_timeout=None, **options)
        try:
            self.client.ping()
        except RedisError as error:
            raise ConfigurationError(f"cannot reach the state store {self.url}: {error}") from None
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.ack_timeout = ack_timeout
        self.channel = f"{self.prefix}changes"
        self._local = threading.local()
        self._stop = threading.Event()
        self._applier: Applier | None = None
        self._vendors: list[str] = []
        self._journals: list[SharedJournal] = []
        self._threads: list[threading.Thread] = []
        self._journal_script = self.client.register_script(JOURNAL_SCRIPT)
        self._clear_script = self.client.register_script(CLEAR_SCRIPT)
        self._unlock_script = self.client.register_script(UNLOCK_SCRIPT)
        self.rate_script = self.client.register_script(RATE_SCRIPT)
        self.available = True

    # ------------------------------------------------------------------ keys

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    # ------------------------------------------------------------------ SharedState

    def _is_applying(self) -> bool:
        return bool(getattr(self._local, "applying", False))

    @contextlib.contextmanager
    def applying(self) -> Iterator[None]:
        before = self._is_applying()
        self._local.applying = True
        try:
            yield
        finally:
            self._local.applying = before

    @contextlib.contextmanager
    def exclusive(self, vendor: str) -> Iterator[None]:
        """A Redis lock per vendor (SET NX with an expiry, released only by its holder), re-entrant in a
        thread. A write that held it waited for every live process to apply it, so the next holder's
        memory has it: the caps are checked against the state every process shares."""
        held: dict[str, int] = getattr(self._local, "locks", None) or {}
        self._local.locks = held
        if self._is_applying() or held.get(vendor):
            held[vendor] = held.get(vendor, 0) + 1
            try:
                yield
            finally:
                held[vendor] -= 1
            return
        key, token = self.key("lock", vendor), uuid.uuid4().hex
        deadline = time.monotonic() + self.ack_timeout + LOCK_SECONDS
        try:
            while not self.client.set(key, token, nx=True, px=int(LOCK_SECONDS * 1000)):
                if time.monotonic() > deadline:
                    raise StateUnavailable(f"the shared state of {vendor} stayed locked by another process")
                time.sleep(0.005)
        except RedisError as error:
            raise self._unavailable(error) from None
        held[vendor] = 1
        try:
            yield
        finally:
            held[vendor] = 0
            with contextlib.suppress(RedisError):  # else it expires after LOCK_SECONDS
                self._unlock_script(keys=[key], args=[token])

    def put(self, vendor: str, part: str, value: Any, *, wait: bool = True) -> None:
        if self._is_applying():
            return
        state = self.key("state", vendor)
        try:
            pipe = self.client.pipeline(transaction=True)
            if part == "reset":
                rate_keys = [_text(key) for key in self.client.smembers(self.key("rate", vendor))]
                pipe.delete(state, self.key("faults", vendor, "counts"), *rate_keys, self.key("rate", vendor))
            elif value is None:
                pipe.hdel(state, part)
            else:
                pipe.hset(state, part, value if isinstance(value, bytes) else orjson.dumps(value))
            if part == "faults":
                for rule in value or []:
                    if rule["remaining"] is not None:
                        pipe.hsetnx(self.key("faults", vendor, "counts"), str(rule["id"]), rule["remaining"])
            self._announce(pipe, vendor, part, wait)
        except RedisError as error:
            raise self._unavailable(error) from None

    def _announce(self, pipe: Any, vendor: str, part: str, wait: bool) -> None:
        change = uuid.uuid4().hex
        message = {"id": change, "origin": self.worker, "vendor": vendor, "part": part, "ack": wait}
        if wait:  # a process that reconnects meanwhile confirms it after reloading (it missed the message)
            pipe.set(self.key("pending", change), 1, ex=int(self.ack_timeout) + 5)
        pipe.publish(self.channel, orjson.dumps(message))
        pipe.hgetall(self.key("workers"))
        *_, receivers, workers = pipe.execute()
        if wait:
            now = time.time()
            live = sum(1 for seen in workers.values() if now - float(seen) < HEARTBEAT_SECONDS * 3)
            self._wait_for(change, max(int(receivers), live))

    def _wait_for(self, change: str, receivers: int) -> None:
        """Until ``receivers`` processes (this one included) have applied a change, or the timeout."""
        key, confirmed = self.key("ack", change), 0
        deadline = time.monotonic() + self.ack_timeout
        while confirmed < receivers and (left := deadline - time.monotonic()) > 0:
            if self.client.blpop([key], timeout=max(0.01, min(left, 1.0))) is not None:
                confirmed += 1
        self.client.delete(key, self.key("pending", change))
        if confirmed < receivers:
            logger.warning("state: %d of %d processes confirmed a change in time", confirmed, receivers)

    def flush_everywhere(self) -> None:
        """Ask every process to write the journal entries it holds, and wait for them (journal reads)."""
        try:
            self._announce(self.client.pipeline(transaction=False), "", "flush", True)
        except RedisError as error:
            raise self._unavailable(error) from None

    def take_count(self, vendor: str, rule_id: int) -> int | None:
        try:
            return int(self.client.hincrby(self.key("faults", vendor, "counts"), str(rule_id), -1))
        except RedisError as error:
            raise self._unavailable(error) from None

    def next_id(self, vendor: str) -> int | None:
        # One counter for every vendor and process: a rule id names one rule (the inspector deletes by id).
        try:
            return int(self.client.incr(self.key("fault-ids")))
        except RedisError as error:
            raise self._unavailable(error) from None

    def _unavailable(self, error: Exception) -> StateUnavailable:
        self.available = False
        return StateUnavailable(f"the shared state store {self.url} is unavailable ({type(error).__name__})")

    def journal(self, size: int, budget: JournalBudget | None = None) -> Journal:
        journal = SharedJournal(self, size, budget)
        self._journals.append(journal)
        return journal

    def rate_limiter(
        self, vendor: str, declaration: Mapping[str, Any], clock: Callable[[], float]
    ) -> RateLimiter:
        windows = [Window(item["requests"], item["seconds"]) for item in declaration["windows"]]
        return SharedRateLimiter(self, vendor, windows, clock)

    # ------------------------------------------------------------------ following changes

    def start(self, applier: Applier, vendors: Sequence[str]) -> None:
        self._applier, self._vendors = applier, list(vendors)
        pubsub = self._listener_client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        try:
            pubsub.subscribe(self.channel)  # before loading: a change made meanwhile is not missed
            self._load()
        except RedisError as error:
            raise ConfigurationError(f"cannot reach the state store {self.url}: {error}") from None
        self._spawn(self._listen, pubsub)
        for journal in self._journals:
            self._spawn(journal.run)

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=f"state-{target.__name__}")
        thread.start()
        self._threads.append(thread)

    def _load(self) -> None:
        """Make this process's memory what Redis holds: every vendor reset here, then its stored parts."""
        assert self._applier is not None
        for vendor in self._vendors:
            stored = self.client.hgetall(self.key("state", vendor))
            self._applier(vendor, "reset", None)
            for part, raw in sorted(stored.items()):
                self._applier(vendor, _text(part), orjson.loads(raw))

    def _listen(self, pubsub: Any) -> None:
        while not self._stop.is_set():
            try:
                if pubsub is None:
                    pubsub = self._listener_client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
                    pubsub.subscribe(self.channel)
                    self._load()
                    self._confirm_pending()
                    logger.warning("state: %s is back; state reloaded", self.url)
                self.available = True
                beat = 0.0
                while not self._stop.is_set():
                    if time.monotonic() - beat > HEARTBEAT_SECONDS:
                        self.client.hset(self.key("workers"), self.worker, repr(time.time()))
                        beat = time.monotonic()
                    message = pubsub.get_message(timeout=HEARTBEAT_SECONDS / 2)
                    if message is not None:
                        self._handle(orjson.loads(message["data"]))
            except RedisError as error:
                if self.available:
                    logger.warning("state: lost %s (%s); retrying", self.url, type(error).__name__)
                self.available = False
                with contextlib.suppress(Exception):
                    pubsub.close()
                pubsub = None
                self._stop.wait(0.2)

    def _confirm_pending(self) -> None:
        """After a reload: confirm the changes announced while this process was away (it has them now)."""
        marker = self.key("pending", "")
        for key in self.client.scan_iter(match=marker + "*", count=100):
            change = _text(key)[len(marker) :]
            pipe = self.client.pipeline(transaction=False)
            pipe.rpush(self.key("ack", change), 1)
            pipe.expire(self.key("ack", change), 30)
            pipe.execute()

    def _handle(self, message: dict[str, Any]) -> None:
        assert self._applier is not None
        vendor, part = message["vendor"], message["part"]
        try:
            if part == "flush":
                for journal in self._journals:
                    journal.flush()
            elif part == "watch":  # an inspector looks (at another process): keep the details here too
                for journal in self._journals:
                    Journal.watch(journal)
            elif message["origin"] != self.worker:
                raw = None if part == "reset" else self.client.hget(self.key("state", vendor), part)
                self._applier(vendor, part, orjson.loads(raw) if raw is not None else None)
        except (RedisError, StateUnavailable):
            raise RedisError("lost the store while applying a change") from None
        except Exception:
            logger.exception("state: could not apply a change to %s (%s)", vendor, part.split("\x00")[0])
        if message.get("ack"):
            key = self.key("ack", message["id"])
            pipe = self.client.pipeline(transaction=False)
            pipe.rpush(key, 1)
            pipe.expire(key, 30)
            pipe.execute()

    def close(self) -> None:
        self._stop.set()
        for journal in self._journals:
            journal.wake()
        for thread in self._threads:
            thread.join(timeout=2)
        for journal in self._journals:
            with contextlib.suppress(StateUnavailable):
                journal.flush()
        with contextlib.suppress(RedisError):
            self.client.hdel(self.key("workers"), self.worker)
        self.client.close()
        self._listener_client.close()


def _encode(entry: JournalEntry) -> bytes:
    """The stored form (the body goes apart, under its own budget); latency and fault only while an
    inspector looked, as in the in-process journal."""
    item: dict[str, Any] = {
        "at": entry.at, "vendor": entry.vendor, "tenant": entry.tenant, "method": entry.method,
        "path": entry.path, "query": entry.raw_query.decode("latin-1"), "status": entry.status,
        "headers": [[name.decode("latin-1"), text.decode("latin-1")] for name, text in entry.raw_headers],
    }  # fmt: skip
    if entry.latency is not None:
        item["latency"] = entry.latency
        item["type"] = entry.response_type
    if entry.applied is not None:
        fault = entry.applied
        item["fault"] = [fault.status, fault.delay, list(fault.rules), fault.asked]
    return orjson.dumps(item)


def _decode(raw: bytes, body: bytes | None = None) -> JournalEntry:
    sequence, _, payload = raw.partition(b" ")
    item = orjson.loads(payload)
    headers = tuple((name.encode("latin-1"), value.encode("latin-1")) for name, value in item["headers"])
    found = item.get("fault")
    fault = Fault(found[0], found[1], tuple(found[2]), found[3]) if found else None
    return JournalEntry(
        int(sequence), item["at"], item["vendor"], item["tenant"], item["method"], item["path"],
        item["query"].encode("latin-1"), headers, item["status"], item.get("latency"), fault,
        body or b"", item.get("type"), body == b"",
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

    def __init__(self, state: RedisState, size: int, budget: JournalBudget | None = None) -> None:
        super().__init__(size, budget)
        self.state = state
        self._pending: deque[JournalEntry] = deque(maxlen=PENDING_JOURNAL_MAX)
        self._wake = threading.Event()
        self._writing = threading.Lock()
        self._told_until = 0.0

    def _key(self, vendor: str, tenant: str | None) -> str:
        return self.state.key("journal", vendor) + "\x00" + (NO_TENANT if tenant is None else tenant)

    def watch(self, seconds: float = WATCH_SECONDS) -> None:
        """Keep the details here and, told at most once a second (no wait), in every other process."""
        super().watch(seconds)
        now = time.monotonic()
        if now < self._told_until:
            return
        self._told_until = now + min(1.0, seconds / 2)
        with contextlib.suppress(RedisError):  # unreachable: the other processes keep the plain journal
            self.state._announce(self.state.client.pipeline(transaction=False), "", "watch", False)

    def _store(self, entry: JournalEntry) -> None:
        # Kept only until written to Redis (not in this process's lists): no Redis round trip here, the
        # writer thread sends a batch, which Redis numbers and trims to the same budgets.
        self._pending.append(entry)
        if not self._wake.is_set():  # once per batch: setting an Event takes a lock
            self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def run(self) -> None:
        """The writer thread: a batch every BATCH_SECONDS at most (a journal read flushes at once)."""
        while not self.state._stop.is_set():
            self._wake.wait(timeout=0.5)
            self.state._stop.wait(BATCH_SECONDS)  # let a batch form: one script call for many requests
            self._wake.clear()
            with contextlib.suppress(StateUnavailable):
                self.flush()
            if self._pending and not self.state.available:
                self.state._stop.wait(0.2)

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
            for entry in batch:
                arguments += [self._key(entry.vendor, entry.tenant), _encode(entry), entry.response]
            try:
                self.state._journal_script(keys=self._budget_keys(sequence=True), args=arguments)
            except RedisError as error:
                self._pending.extendleft(reversed(batch))
                raise self.state._unavailable(error) from None

    def _budget_keys(self, *, sequence: bool) -> list[str]:
        names = ["keys", "bytes", "total", "bodies", "bodies-order", "bodies-total"]
        return [self.state.key("journal", name) for name in (["sequence", *names] if sequence else names)]

    def _stored_keys(self, vendor: str | None, tenant: str | None) -> list[str]:
        keys = [_text(key) for key in self.state.client.smembers(self.state.key("journal", "keys"))]
        chosen = []
        for key in keys:
            owner, _, who = key[len(self.state.key("journal", "")) :].partition("\x00")
            if (vendor is None or owner == vendor) and (tenant is None or who == tenant):
                chosen.append(key)
        return chosen

    def _read_all(self) -> None:
        self.state.flush_everywhere()
        self.flush()

    def entries(self, vendor: str | None = None, tenant: str | None = None) -> list[JournalEntry]:
        """Every process's entries (without their bodies: ``find`` reads one entry in full)."""
        self._read_all()
        try:
            keys = self._stored_keys(vendor, tenant)
            pipe = self.state.client.pipeline(transaction=False)
            for key in keys:
                pipe.lrange(key, 0, -1)
            lists = pipe.execute() if keys else []
        except RedisError as error:
            raise self.state._unavailable(error) from None
        found = [_decode(raw) for items in lists for raw in items]
        return sorted(found, key=lambda entry: entry.sequence)

    def find(self, sequence: int) -> JournalEntry | None:
        """The entry with this sequence number, with its response body, if Redis still keeps it."""
        self._read_all()
        try:
            keys = self._stored_keys(None, None)
            pipe = self.state.client.pipeline(transaction=False)
            for key in keys:
                pipe.lindex(key, 0)
                pipe.lindex(key, -1)
            ends = pipe.execute() if keys else []
            for index, key in enumerate(keys):
                first, last = ends[2 * index], ends[2 * index + 1]
                if first is None or last is None:
                    continue
                if int(first.partition(b" ")[0]) <= sequence <= int(last.partition(b" ")[0]):
                    items: list[bytes] = self.state.client.lrange(key, 0, -1)  # type: ignore[assignment]
                    for raw in items:
                        if int(raw.partition(b" ")[0]) == sequence:
                            body = self.state.client.hget(self.state.key("journal", "bodies"), str(sequence))
                            return _decode(raw, body if isinstance(body, bytes) else None)
        except RedisError as error:
            raise self.state._unavailable(error) from None
        return None

    def latest(self) -> int:
        """The sequence number of the newest entry of any process (0 before the first)."""
        self._read_all()
        try:
            raw = self.state.client.get(self.state.key("journal", "sequence"))
        except RedisError as error:
            raise self.state._unavailable(error) from None
        return int(raw) if raw is not None else 0

    def tenants(self) -> set[tuple[str, str | None]]:
        """The (vendor, tenant) pairs with requests kept in Redis."""
        self._read_all()
        try:
            keys = self._stored_keys(None, None)
        except RedisError as error:
            raise self.state._unavailable(error) from None
        found: set[tuple[str, str | None]] = set()
        for key in keys:
            owner, _, who = key[len(self.state.key("journal", "")) :].partition("\x00")
            found.add((owner, None if who == NO_TENANT else who))
        return found

    @property
    def body_bytes(self) -> tuple[int, int]:
        """The response bytes kept in Redis for the inspector, and how many bodies are queued."""
        try:
            pipe = self.state.client.pipeline(transaction=False)
            pipe.get(self.state.key("journal", "bodies-total"))
            pipe.llen(self.state.key("journal", "bodies-order"))
            total, queued = pipe.execute()
        except RedisError as error:
            raise self.state._unavailable(error) from None
        return int(total or 0), int(queued)

    def clear(self, vendor: str | None = None, tenant: str | None = None) -> None:
        super().clear(vendor, tenant)
        if self.state._is_applying():
            return
        self._read_all()
        try:
            keys = self._stored_keys(vendor, tenant)
            if keys:
                self.state._clear_script(keys=self._budget_keys(sequence=False), args=keys)
        except RedisError as error:
            raise self.state._unavailable(error) from None

    def __len__(self) -> int:
        return len(self.entries())


class SharedRateLimiter(RateLimiter):
    """Sliding windows per tenant kept in Redis (sorted sets), checked by one script per request.

    Uses the wall clock (``time.time``), the one clock that processes on several hosts share. While
    Redis is unreachable, this process's own windows decide (a warning is logged).
    """

    def __init__(
        self, state: RedisState, vendor: str, windows: Sequence[Window], clock: Callable[[], float]
    ) -> None:
        super().__init__(windows, clock)
        self.state = state
        self.vendor = vendor
        self._count = 0

    def forget(self, tenant: str) -> None:
        """Drop one tenant's windows here and, unless mirroring another process, in Redis."""
        super().forget(tenant)
        if self.state._is_applying():
            return
        keys = [
            self.state.key("rate", self.vendor, tenant, f"{window.requests}/{window.seconds}")
            for window in self.windows
        ]
        with contextlib.suppress(RedisError):  # unreachable: the windows expire on their own
            pipe = self.state.client.pipeline(transaction=False)
            pipe.delete(*keys)
            pipe.srem(self.state.key("rate", self.vendor), *keys)
            pipe.execute()

    def check(self, tenant: str | None) -> Verdict:
        now = time.time()
        self._count += 1
        keys = [
            self.state.key("rate", self.vendor, tenant or NO_TENANT, f"{w.requests}/{w.seconds}")
            for w in self.windows
        ]
        arguments: list[Any] = [repr(now), f"{now!r}:{self.state.worker}:{self._count}"]
        for window in self.windows:
            arguments += [window.requests, window.seconds]
        arguments.append(self.state.key("rate", self.vendor))
        try:
            allowed, index, remaining, wait_text = self.state.rate_script(keys=keys, args=arguments)
        except RedisError:
            if self.state.available:
                logger.warning("state: rate limits of %s counted in this process only", self.vendor)
            self.state.available = False
            return super().check(tenant)
        window, wait = self.windows[int(index) - 1], float(wait_text)
        if not allowed:
            return Verdict(False, window.requests, 0, self._reset(wait), max(1, math.ceil(wait)))
        return Verdict(True, window.requests, int(remaining), self._reset(wait), 0)
