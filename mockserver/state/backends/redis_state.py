"""State shared through Redis: several emulator processes (``serve --workers N``) or hosts, one state.

Every process still answers vendor requests from its own memory. What callers change is written to
Redis first, then announced on a pub/sub channel; every process applies the change to its own memory
(a seeded dataset is rebuilt there, with its indexes) and confirms, and the admin call returns once
every live process has confirmed, so the next request sees the change whichever process answers it.

No change is lost to another made at the same time:
- the parts of a vendor (records, keys, clocks and switches, the rate-limit switch; a hash per vendor)
  change under the vendor's lock; the store write, the change's number (a counter per vendor) and the
  announcement are one transaction, so a process killed in the middle leaves the change made and
  announced, or not made at all. Once it holds the lock, a process that missed a change (it confirmed
  late, or its listener lost a message: the numbers have a gap) first reads the vendor's current state,
  so what it writes is computed from the state every process shares, never a stale copy;
- fault rules (and drifts, which are rules with more fields) are stored one per hash field, their
  countdowns in another hash: adding (with the cap), removing, clearing and the countdown that removes a
  used-up rule are each one atomic step in Redis (Lua), without the lock; every process then reads the
  current rules, whoever changed them.

On a vendor request there is no Redis round trip, except where the answer depends on all processes'
requests: a counted fault (``times``: the countdown is kept in Redis) and, when rate limits are on,
the sliding windows (a Lua script per request). The journal is written in batches by a background
thread; reading it asks every process to write what it holds first.

While Redis is unreachable: vendor requests are answered from memory (a counted fault answers 503 in
the vendor's error shape; rate limits fall back to this process's own windows); admin writes and
journal reads answer 503 ``state_unavailable`` and change nothing; journal entries wait in a bounded
buffer. When Redis is back with its data, every process applies what it missed. When it is back
EMPTY (restarted without persistence: the ``epoch`` key is gone), the first process to notice writes
its state (parts, rules and counts, as it last applied them) back, under a lock, and the others load
that: every process serves the same data again. The journal and rate-limit windows start empty. Each
process keeps the stored form of the parts it applied (bounded by the record caps) to write them back.
A process reports itself not ready (``readiness``, the health endpoint) while its listener has no
acknowledged heartbeat: at once when the connection breaks, within READY_SECONDS when a partition
swallows it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import orjson
from redis.exceptions import RedisError

from mockserver.errors import ConfigurationError
from mockserver.state.backends.base import Applier, StateUnavailable
from mockserver.state.backends.redis_connection import (
    ACK_TIMEOUT_SECONDS,
    HEARTBEAT_SECONDS,
    RedisConnection,
    text,
)
from mockserver.state.backends.redis_journal import SharedJournal
from mockserver.state.backends.redis_rate_limiter import SharedRateLimiter
from mockserver.state.journal import Journal, JournalBudget
from mockserver.state.rate_limiter import RateLimiter, Window

logger = logging.getLogger("mockserver")
READY_SECONDS = 2.5  # no heartbeat acknowledged for this long: not ready (HEARTBEAT_SECONDS is 1 s)
LOCK_SECONDS = 10.0  # a cap-checked change holds the vendor's lock at most this long (a crashed holder)
REPOPULATE_WAIT_SECONDS = 10.0  # a process waits this long for another to write an emptied store back
UNLOCK_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# The rules of a vendor: a hash (field: rule id, value: the rule's JSON, whatever fields it has) and the
# countdowns of the counted ones (field: rule id). Each change below is one atomic step in Redis. KEYS:
# the rules, the counts, the epoch; ARGV[1]: the epoch this process's memory comes from ('' before it
# loaded), so that no rule changes in a store that came back empty before the state is written back.
EMPTIED = -999_999_999  # what a rule script answers in a store that came back empty
EPOCH_CHECK = f"""
if ARGV[1] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[1] then return {EMPTIED} end
"""
ADD_RULE = (
    EPOCH_CHECK
    + """
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[2], ARGV[3], ARGV[5]) end
return 1
"""
)
REMOVE_RULE = (
    EPOCH_CHECK
    + """
redis.call('HDEL', KEYS[2], ARGV[2])
return redis.call('HDEL', KEYS[1], ARGV[2])
"""
)
CLEAR_RULES = (
    EPOCH_CHECK
    + """
if ARGV[2] == '' and ARGV[3] == '' then
  local removed = redis.call('HLEN', KEYS[1])
  redis.call('DEL', KEYS[1], KEYS[2])
  return removed
end
local all, removed = redis.call('HGETALL', KEYS[1]), 0
for i = 1, #all, 2 do
  local ok, rule = pcall(cjson.decode, all[i + 1])
  local gone = not ok or type(rule) ~= 'table'
  if not gone and (ARGV[2] == '' or rule['tenant'] == ARGV[2]) then
    local drift = rule['drift'] ~= nil and rule['drift'] ~= cjson.null
    gone = ARGV[3] == '' or (ARGV[3] == 'drift') == drift
  end
  if gone then
    redis.call('HDEL', KEYS[1], all[i]); redis.call('HDEL', KEYS[2], all[i]); removed = removed + 1
  end
end
return removed
"""
)
TAKE_COUNT = (
    EPOCH_CHECK
    + """
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 then return -1 end
local left = redis.call('HINCRBY', KEYS[2], ARGV[2], -1)
if left <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[2]); redis.call('HDEL', KEYS[2], ARGV[2])
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
return left
"""
)
AT_LEAST = """
if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
"""


class NotRestoredError(RedisError):
    """The store came back empty and no process wrote the state back in time (retried)."""


def rules_from(stored: Mapping[bytes, bytes], counts: Mapping[bytes, bytes]) -> list[dict[str, Any]]:
    """A vendor's rules as Redis holds them, in the order they were added (ids grow), with their counts."""
    rules = []
    for field, raw in stored.items():
        try:
            rule = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(rule, dict):
            continue
        count = counts.get(field)
        if rule.get("remaining") is not None:
            if count is None or int(count) <= 0:
                continue  # used up meanwhile
            rule["remaining"] = int(count)
        rules.append(rule)
    return sorted(rules, key=lambda rule: int(rule.get("id") or 0))


class RedisState:
    """The Redis backend (see the module docstring); ``url`` as redis-py takes it, plus ``?prefix=``."""

    shared = True

    def __init__(self, url: str, *, ack_timeout: float = ACK_TIMEOUT_SECONDS) -> None:
        self.link = RedisConnection(url, ack_timeout=ack_timeout)
        self.url = self.link.url
        self.client = self.link.client
        self._applier: Applier | None = None
        self._vendors: list[str] = []
        self._journals: list[SharedJournal] = []
        self._threads: list[threading.Thread] = []
        self._unlock_script = self.client.register_script(UNLOCK_SCRIPT)
        # locks this process could not release (Redis went away while it held them): released when
        # Redis is back, rather than leaving the vendor locked for the rest of LOCK_SECONDS
        self._unreleased: deque[tuple[str, str]] = deque(maxlen=64)
        self._take_script = self.client.register_script(TAKE_COUNT)
        # What this process's memory holds of the store, changed only under _applying:
        self._applying = threading.RLock()
        self._seen: dict[str, int] = {}  # per vendor: the last numbered change applied here
        self._mirror: dict[str, dict[str, bytes]] = {}  # per vendor: each part as stored, when applied
        self._rules: dict[str, list[dict[str, Any]]] = {}  # per vendor: the rules, as last read
        self._epoch = uuid.uuid4().hex  # the store this process's memory comes from (see _load)
        self._vendors_loaded = False
        self._recovering = threading.Lock()  # one background write-back at a time
        self._highest_id = 0  # the highest fault-rule id seen (a store written back counts on from it)

    # ------------------------------------------------------------------ SharedState

    def applying(self) -> contextlib.AbstractContextManager[None]:
        return self.link.applying()

    @contextlib.contextmanager
    def exclusive(self, vendor: str) -> Iterator[None]:
        """A Redis lock per vendor (SET NX with an expiry, released only by its holder), re-entrant in a
        thread. Once it is held, this process's memory is brought up to the store's current state of the
        vendor when it missed a change (a process that confirmed late, or not at all): the caps are
        checked, and the changes computed, against the state every process shares, never a stale copy.

        Waits at most ``ack_timeout + LOCK_SECONDS`` (12 s by default) for the lock, then raises
        StateUnavailable; call it off the event loop (the admin API runs its changes in threads)."""
        held = self.link.held_locks()
        if self.link.is_applying() or held.get(vendor):
            held[vendor] = held.get(vendor, 0) + 1
            try:
                yield
            finally:
                held[vendor] -= 1
            return
        key, token = self.link.key("lock", vendor), uuid.uuid4().hex
        deadline = time.monotonic() + self.link.ack_timeout + LOCK_SECONDS
        try:
            while not self.client.set(key, token, nx=True, px=int(LOCK_SECONDS * 1000)):
                if time.monotonic() > deadline:
                    raise StateUnavailable(f"the shared state of {vendor} stayed locked by another process")
                time.sleep(0.005)
        except RedisError as error:
            raise self.link.unavailable(error) from None
        held[vendor] = 1
        try:
            self._catch_up(vendor)
            yield
        finally:
            held[vendor] = 0
            try:
                self._unlock_script(keys=[key], args=[token])
            except RedisError:  # released when Redis is back (else it expires after LOCK_SECONDS)
                self._unreleased.append((key, token))

    def _release_unreleased(self) -> None:
        """Release the locks this process held when Redis went away (only if still its own)."""
        while self._unreleased:
            key, token = self._unreleased.popleft()
            self._unlock_script(keys=[key], args=[token])

    def _catch_up(self, vendor: str) -> None:
        """Under the vendor's lock: apply what this process missed of the vendor (nothing, usually)."""
        if not self._vendors_loaded:  # before start: nothing loaded, nothing to catch up with
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.get(self.link.key("gen", vendor))
            pipe.get(self.link.key("epoch"))
            number, epoch = pipe.execute()
            if self._emptied_store(epoch):
                self._load()  # emptied (FLUSHALL, a restart): written back (or adopted) first
            elif int(number or 0) != self._seen.get(vendor, 0):
                self._sync(vendor)
        except NotRestoredError:
            raise self._emptied() from None
        except RedisError as error:
            raise self.link.unavailable(error) from None

    def put(self, vendor: str, part: str, value: Any, *, wait: bool = True) -> None:
        """Store a part and announce it, numbered, in one transaction, holding the vendor's lock (a value
        computed from this process's memory is computed from the current state: see ``exclusive``)."""
        if self.link.is_applying():
            return
        with self.exclusive(vendor):
            state = self.link.key("state", vendor)
            raw = b"" if value is None else value if isinstance(value, bytes) else orjson.dumps(value)
            try:
                pipe = self.client.pipeline(transaction=True)
                if part == "reset":
                    rate_keys = [text(key) for key in self.client.smembers(self.link.key("rate", vendor))]
                    pipe.delete(state, *self._rule_keys(vendor), *rate_keys, self.link.key("rate", vendor))
                elif value is None:
                    pipe.hdel(state, part)
                else:
                    pipe.hset(state, part, raw)
                self.link.announce(pipe, vendor, part, wait, generation=self.link.key("gen", vendor))
            except RedisError as error:
                raise self.link.unavailable(error) from None
            with self._applying:  # the caller changes its memory next, under the lock still held
                mirror = self._mirror.setdefault(vendor, {})
                if part == "reset":
                    mirror.clear()
                    self._rules[vendor] = []
                elif value is None:
                    mirror.pop(part, None)
                else:
                    mirror[part] = raw

    # ------------------------------------------------------------------ fault rules, each change atomic

    def _rule_keys(self, vendor: str) -> tuple[str, str]:
        return self.link.key("rules", vendor), self.link.key("faults", vendor, "counts")

    def _rule_script(self, pipe: Any, script: str, vendor: str, *args: Any) -> None:
        """Queue a rule change (one of the scripts above) on ``pipe``."""
        epoch = self._epoch if self._vendors_loaded else ""
        pipe.eval(script, 3, *self._rule_keys(vendor), self.link.key("epoch"), epoch, *args)

    def _emptied(self) -> StateUnavailable:
        return StateUnavailable(f"the shared state store {self.url} was emptied and is being restored")

    def _rules_changed(self, pipe: Any, vendor: str, wait: bool = True) -> Any:
        """Run ``pipe`` (one transaction: a rule script) with the announcement that the rules changed;
        then bring this process's rules up to date (read-your-writes even when its listener is late).
        The script's reply."""
        try:
            results, _ = self.link.announce(pipe, vendor, "faults", wait)
        except RedisError as error:
            raise self.link.unavailable(error) from None
        if results[0] == EMPTIED:  # write the state back (or wait for another process to), then refuse
            with contextlib.suppress(RedisError):
                self._load()
            raise self._emptied()
        self.refresh_rules(vendor)
        return results[0]

    def add_rule(self, vendor: str, rule: Mapping[str, Any], max_rules: int) -> int | None:
        """Store one more rule (any JSON object; ``remaining`` counts it down) unless the vendor has
        ``max_rules`` already: its new id, or None at the cap. One step in Redis: two processes adding
        at once never lose one another's rule, and the cap holds across processes."""
        if self.link.is_applying():
            return None
        rule_id = self.next_id(vendor)
        assert rule_id is not None
        remaining = rule.get("remaining")
        item = orjson.dumps({**rule, "id": rule_id})
        pipe = self.client.pipeline(transaction=True)
        count = "" if remaining is None else int(remaining)
        self._rule_script(pipe, ADD_RULE, vendor, max_rules, rule_id, item, count)
        return rule_id if self._rules_changed(pipe, vendor) else None

    def remove_rule(self, vendor: str, rule_id: int) -> bool:
        """Remove one rule by its id: whether it was there."""
        if self.link.is_applying():
            return False
        pipe = self.client.pipeline(transaction=True)
        self._rule_script(pipe, REMOVE_RULE, vendor, str(rule_id))
        return bool(self._rules_changed(pipe, vendor))

    def clear_rules(self, vendor: str, tenant: str | None, drifts: bool | None = None) -> None:
        """Remove the rules of ``tenant`` (every rule for None); ``drifts``: only drift rules (True),
        only the others (False), or both (None)."""
        if self.link.is_applying():
            return  # the process that freed the tenant cleared them in the store
        kind = "" if drifts is None else ("drift" if drifts else "fault")
        pipe = self.client.pipeline(transaction=True)
        self._rule_script(pipe, CLEAR_RULES, vendor, tenant or "", kind)
        self._rules_changed(pipe, vendor)

    def refresh_rules(self, vendor: str) -> None:
        """Make this process's rules of ``vendor`` the store's current ones."""
        with self._applying:  # reads in order, applied in order: never an older list over a newer one
            try:
                pipe = self.client.pipeline(transaction=True)
                pipe.hgetall(self._rule_keys(vendor)[0])
                pipe.hgetall(self._rule_keys(vendor)[1])
                pipe.get(self.link.key("epoch"))
                stored, counts, epoch = pipe.execute()
            except RedisError as error:
                raise self.link.unavailable(error) from None
            if self._emptied_store(epoch):
                return  # an emptied store is written back first: keep what this process has
            self._apply_rules(vendor, rules_from(stored, counts))

    def _emptied_store(self, epoch: bytes | None) -> bool:
        """Whether the store no longer holds the state this process loaded (FLUSHALL, an empty restart)."""
        return self._vendors_loaded and (epoch is None or text(epoch) != self._epoch)

    def _apply_rules(self, vendor: str, rules: list[dict[str, Any]]) -> None:
        assert self._applier is not None
        self._rules[vendor] = rules
        self._highest_id = max([self._highest_id, *(int(rule.get("id") or 0) for rule in rules)])
        self._applier(vendor, "faults", rules)

    def take_count(self, vendor: str, rule_id: int) -> int | None:
        """Count a rule down; when it is used up, it is removed and every process told, in the same
        step (Lua): no process writes back a list of rules of its own."""
        message = {"id": uuid.uuid4().hex, "origin": self.link.worker, "vendor": vendor, "part": "faults"}
        epoch = self._epoch if self._vendors_loaded else ""
        try:
            left = self._take_script(
                keys=[*self._rule_keys(vendor), self.link.key("epoch")],
                args=[epoch, str(rule_id), self.link.channel, orjson.dumps({**message, "ack": False})],
            )
        except RedisError as error:
            raise self.link.unavailable(error) from None
        if left == EMPTIED:  # answered like a lost store (503 in the vendor's shape) until written back
            self._recover_in_background()
            raise self._emptied()
        return int(left)

    def _recover_in_background(self) -> None:
        """A vendor request found the store emptied: write the state back, off the event loop, once."""
        if self._recovering.acquire(blocking=False):

            def recover() -> None:
                try:
                    self._load()
                except RedisError as error:
                    logger.warning("state: could not restore %s yet (%s)", self.url, type(error).__name__)
                finally:
                    self._recovering.release()

            threading.Thread(target=recover, daemon=True, name="state-recover").start()

    def next_id(self, vendor: str) -> int | None:
        # One counter for every vendor and process: a rule id names one rule (the inspector deletes by id).
        try:
            rule_id = int(self.client.incr(self.link.key("fault-ids")))
        except RedisError as error:
            raise self.link.unavailable(error) from None
        self._highest_id = max(self._highest_id, rule_id)
        return rule_id

    def journal(self, size: int, budget: JournalBudget | None = None) -> Journal:
        journal = SharedJournal(self.link, size, budget)
        self._journals.append(journal)
        return journal

    def rate_limiter(
        self, vendor: str, declaration: Mapping[str, Any], clock: Callable[[], float]
    ) -> RateLimiter:
        windows = [Window(item["requests"], item["seconds"]) for item in declaration["windows"]]
        return SharedRateLimiter(self.link, vendor, windows, clock)

    # ------------------------------------------------------------------ following changes

    def start(self, applier: Applier, vendors: Sequence[str]) -> None:
        self._applier, self._vendors = applier, list(vendors)
        try:
            pubsub = self._subscribe()  # before loading: a change made meanwhile is not missed
            self._load()
        except RedisError as error:
            raise ConfigurationError(f"cannot reach the state store {self.url}: {error}") from None
        self._beat_at = time.monotonic()  # it just answered; the listener's heartbeat takes over
        self._spawn(self._listen, pubsub)
        for journal in self._journals:
            self._spawn(journal.run)

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=f"state-{target.__name__}")
        thread.start()
        self._threads.append(thread)

    def _load(self) -> None:
        """Make this process's memory what Redis holds. The first time, every vendor is reset here, then
        its stored parts applied. Later (Redis is back after a loss): only what differs is applied; when
        the store came back EMPTY (restarted without its data: the epoch key is gone), the first process
        to notice writes its state back (under a lock; the last state every process acknowledged) and
        the others wait for that, then load it, so that every process serves the same data again."""
        assert self._applier is not None
        epoch_key = self.link.key("epoch")
        if not self._vendors_loaded:
            self.client.set(epoch_key, self._epoch, nx=True)  # the first process marks a fresh store
            self._epoch = text(self.client.get(epoch_key) or self._epoch.encode())
            for vendor in self._vendors:
                with self._applying:
                    self._applier(vendor, "reset", None)
                    self._mirror[vendor] = {}
                    self._sync(vendor)
            self._vendors_loaded = True
            return
        epoch = self.client.get(epoch_key)
        if epoch is None:
            self._restore()
        else:
            self._epoch = text(epoch)
        for vendor in self._vendors:
            self._sync(vendor)

    def _restore(self) -> None:
        """The store came back empty: write this process's state back, or wait for another's."""
        lock = self.link.key("restoring")
        if not self.client.set(lock, self.link.worker, nx=True, px=int(REPOPULATE_WAIT_SECONDS * 1000)):
            deadline = time.monotonic() + REPOPULATE_WAIT_SECONDS
            while (epoch := self.client.get(self.link.key("epoch"))) is None:
                if time.monotonic() > deadline or self.link.stopping.is_set():
                    raise NotRestoredError("the store came back empty and nobody wrote the state back")
                time.sleep(0.05)
            self._epoch = text(epoch)
            return
        with self._applying:
            pipe = self.client.pipeline(transaction=True)
            for vendor in self._vendors:
                mirror, rules = self._mirror.get(vendor, {}), self._rules.get(vendor, [])
                if mirror:
                    pipe.hset(self.link.key("state", vendor), mapping=dict(mirror.items()))
                pipe.set(self.link.key("gen", vendor), self._seen.get(vendor, 0))
                for rule in rules:
                    field = str(rule["id"])
                    pipe.hset(self._rule_keys(vendor)[0], field, orjson.dumps(rule))
                    if rule.get("remaining") is not None:
                        pipe.hset(self._rule_keys(vendor)[1], field, int(rule["remaining"]))
            pipe.eval(AT_LEAST, 1, self.link.key("fault-ids"), self._highest_id)
            pipe.set(self.link.key("epoch"), self._epoch)
            pipe.delete(lock)
            pipe.execute()
        logger.warning("state: %s came back empty; this process wrote the last state back", self.url)

    def _sync(self, vendor: str) -> None:
        """Apply the store's current state of ``vendor`` where this process's memory differs."""
        assert self._applier is not None
        with self._applying:
            pipe = self.client.pipeline(transaction=True)
            pipe.hgetall(self.link.key("state", vendor))
            pipe.get(self.link.key("gen", vendor))
            pipe.hgetall(self._rule_keys(vendor)[0])
            pipe.hgetall(self._rule_keys(vendor)[1])
            pipe.get(self.link.key("epoch"))
            stored, number, rules, counts, epoch = pipe.execute()
            if self._emptied_store(epoch):
                raise NotRestoredError("the store was emptied: its state is written back first")
            stored = {text(part): raw for part, raw in stored.items()}
            mirror = self._mirror.setdefault(vendor, {})
            for part in sorted(set(mirror) - set(stored)):
                self._applier(vendor, part, None)
            for part, raw in sorted(stored.items()):
                if mirror.get(part) != raw:
                    self._applier(vendor, part, orjson.loads(raw))
            self._mirror[vendor] = stored
            self._seen[vendor] = int(number or 0)
            self._apply_rules(vendor, rules_from(rules, counts))

    # The listener's heartbeat is also this process's readiness (``/__mock__/health``): monotonic time
    # of the last beat Redis acknowledged while subscribed and loaded; None while away. A beat that Redis
    # does not answer (a partition swallows it) fails after the client's socket timeout (2 s); readiness
    # does not wait for that: no acknowledged beat for READY_SECONDS is "not ready" already.
    _beat_at: float | None = None

    def readiness(self) -> str | None:
        """Why this process is not ready (None when it is): an in-memory flag, no Redis call."""
        beat = self._beat_at
        if beat is None:
            return f"the shared state store {self.url} is unreachable; reconnecting"
        silent = time.monotonic() - beat
        if silent > READY_SECONDS:
            return f"the shared state store {self.url} has not answered for {silent:.1f} s"
        return None

    def _subscribe(self) -> Any:
        """A subscription to the change channel, on a client with a socket timeout: a connection that a
        partition swallows (its handshake unanswered) fails instead of waiting forever."""
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        pubsub.subscribe(self.link.channel)
        return pubsub

    def _listen(self, pubsub: Any) -> None:
        while not self.link.stopping.is_set():
            try:
                if pubsub is None:
                    pubsub = self._subscribe()
                    self._load()
                    self._confirm_pending()
                    self._release_unreleased()
                    logger.warning("state: %s is back; state reloaded", self.url)
                self.link.available = True
                beat = 0.0
                while not self.link.stopping.is_set():
                    if time.monotonic() - beat > HEARTBEAT_SECONDS:
                        self.client.hset(self.link.key("workers"), self.link.worker, repr(time.time()))
                        beat = self._beat_at = time.monotonic()
                    message = pubsub.get_message(timeout=HEARTBEAT_SECONDS / 2)
                    if message is not None:
                        self._handle(orjson.loads(message["data"]))
            except RedisError as error:
                if self.link.available:
                    logger.warning("state: lost %s (%s); retrying", self.url, type(error).__name__)
                self.link.available = False
                self._beat_at = None
                with contextlib.suppress(Exception):
                    pubsub.close()
                pubsub = None
                self.link.stopping.wait(0.2)

    def _confirm_pending(self) -> None:
        """After a reload: confirm the changes announced while this process was away (it has them now)."""
        marker = self.link.key("pending", "")
        for key in self.client.scan_iter(match=marker + "*", count=100):
            self.link.confirm(text(key)[len(marker) :])

    def _handle(self, message: dict[str, Any]) -> None:
        vendor, part = message["vendor"], message["part"]
        try:
            if part == "flush":
                for journal in self._journals:
                    journal.flush()
            elif part == "watch":  # an inspector looks (at another process): keep the details here too
                for journal in self._journals:
                    Journal.watch(journal)
            elif part == "faults":  # whoever changed them: read the current rules
                self.refresh_rules(vendor)
            else:
                self._apply_numbered(vendor, part, message)
        except (RedisError, StateUnavailable):
            raise RedisError("lost the store while applying a change") from None
        except Exception:
            logger.exception("state: could not apply a change to %s (%s)", vendor, part.split("\x00")[0])
        if message.get("ack"):
            self.link.confirm(message["id"])

    def _apply_numbered(self, vendor: str, part: str, message: dict[str, Any]) -> None:
        """A change to a part: the next one this process expects is applied (read from the store, so the
        current value); one already covered is skipped; after a gap (a message missed), the vendor is
        brought up to the store's state."""
        assert self._applier is not None
        number = message.get("gen")
        with self._applying:
            seen = self._seen.get(vendor, 0)
            if not isinstance(number, int) or number <= seen:
                return
            if number > seen + 1:
                self._sync(vendor)
                return
            if message["origin"] != self.link.worker:  # the writer changed its own memory itself
                mirror = self._mirror.setdefault(vendor, {})
                if part == "reset":
                    self._applier(vendor, "reset", None)
                    mirror.clear()
                    self._rules[vendor] = []
                else:
                    raw = self.client.hget(self.link.key("state", vendor), part)
                    self._applier(vendor, part, orjson.loads(raw) if raw is not None else None)
                    if raw is None:
                        mirror.pop(part, None)
                    else:
                        mirror[part] = raw if isinstance(raw, bytes) else raw.encode()
            self._seen[vendor] = number

    def close(self) -> None:
        self.link.stopping.set()
        for journal in self._journals:
            journal.wake()
        for thread in self._threads:
            thread.join(timeout=2)
        for journal in self._journals:
            with contextlib.suppress(StateUnavailable):
                journal.flush()
        self.link.close()
