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
buffer. When Redis is back, every process reloads the stored state. A process reports itself not
ready (``readiness``, the health endpoint) while its listener has no acknowledged heartbeat: at once when
the connection breaks, within READY_SECONDS when a partition swallows it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
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
UNLOCK_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


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

    # ------------------------------------------------------------------ SharedState

    def applying(self) -> contextlib.AbstractContextManager[None]:
        return self.link.applying()

    @contextlib.contextmanager
    def exclusive(self, vendor: str) -> Iterator[None]:
        """A Redis lock per vendor (SET NX with an expiry, released only by its holder), re-entrant in a
        thread. A write that held it waited for every live process to apply it, so the next holder's
        memory has it: the caps are checked against the state every process shares."""
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
            yield
        finally:
            held[vendor] = 0
            with contextlib.suppress(RedisError):  # else it expires after LOCK_SECONDS
                self._unlock_script(keys=[key], args=[token])

    def put(self, vendor: str, part: str, value: Any, *, wait: bool = True) -> None:
        if self.link.is_applying():
            return
        state = self.link.key("state", vendor)
        try:
            pipe = self.client.pipeline(transaction=True)
            if part == "reset":
                rate_keys = [text(key) for key in self.client.smembers(self.link.key("rate", vendor))]
                pipe.delete(
                    state,
                    self.link.key("faults", vendor, "counts"),
                    *rate_keys,
                    self.link.key("rate", vendor),
                )
            elif value is None:
                pipe.hdel(state, part)
            else:
                pipe.hset(state, part, value if isinstance(value, bytes) else orjson.dumps(value))
            if part == "faults":
                for rule in value or []:
                    if rule["remaining"] is not None:
                        pipe.hsetnx(
                            self.link.key("faults", vendor, "counts"), str(rule["id"]), rule["remaining"]
                        )
            self.link.announce(pipe, vendor, part, wait)
        except RedisError as error:
            raise self.link.unavailable(error) from None

    def take_count(self, vendor: str, rule_id: int) -> int | None:
        try:
            return int(self.client.hincrby(self.link.key("faults", vendor, "counts"), str(rule_id), -1))
        except RedisError as error:
            raise self.link.unavailable(error) from None

    def next_id(self, vendor: str) -> int | None:
        # One counter for every vendor and process: a rule id names one rule (the inspector deletes by id).
        try:
            return int(self.client.incr(self.link.key("fault-ids")))
        except RedisError as error:
            raise self.link.unavailable(error) from None

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
        """Make this process's memory what Redis holds: every vendor reset here, then its stored parts."""
        assert self._applier is not None
        for vendor in self._vendors:
            stored = self.client.hgetall(self.link.key("state", vendor))
            self._applier(vendor, "reset", None)
            for part, raw in sorted(stored.items()):
                self._applier(vendor, text(part), orjson.loads(raw))

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
        assert self._applier is not None
        vendor, part = message["vendor"], message["part"]
        try:
            if part == "flush":
                for journal in self._journals:
                    journal.flush()
            elif part == "watch":  # an inspector looks (at another process): keep the details here too
                for journal in self._journals:
                    Journal.watch(journal)
            elif message["origin"] != self.link.worker:
                raw = None if part == "reset" else self.client.hget(self.link.key("state", vendor), part)
                self._applier(vendor, part, orjson.loads(raw) if raw is not None else None)
        except (RedisError, StateUnavailable):
            raise RedisError("lost the store while applying a change") from None
        except Exception:
            logger.exception("state: could not apply a change to %s (%s)", vendor, part.split("\x00")[0])
        if message.get("ack"):
            self.link.confirm(message["id"])

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
