"""One process's link to the Redis store: its clients, key names, availability and the change channel.

The shared state (redis_state), the shared journal (redis_journal) and the shared rate limiter
(redis_rate_limiter) all talk to Redis through one RedisConnection. A change is announced on the
channel every process listens to, in the same transaction as its store write (and, for a vendor's
parts, numbered by the vendor's change counter there too); with ``wait``, the announcer waits until
every live process has confirmed that it applied the change (read-your-writes on any worker).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from mockserver.errors import ConfigurationError
from mockserver.state.backends.base import StateUnavailable
from mockserver.state.backends.redis_url import parse_store_url

logger = logging.getLogger("mockserver")
ACK_TIMEOUT_SECONDS = 2.0
HEARTBEAT_SECONDS = 1.0  # each process says it is alive this often; writes wait for the live ones
NO_TENANT = "\x01"  # the tenant part of a key for requests no tenant made
# Number a change (the vendor's change counter) and publish it with its number, in one step.
PUBLISH_NUMBERED = """
local number = redis.call('INCR', KEYS[1])
return {number, redis.call('PUBLISH', ARGV[1], ARGV[2] .. number .. '}')}
"""


def text(value: bytes | str) -> str:
    """A Redis reply as text."""
    return value.decode() if isinstance(value, bytes) else value


class RedisConnection:
    """The clients of one process (``url``: see redis_url for the forms) and what they share."""

    def __init__(self, url: str, *, ack_timeout: float = ACK_TIMEOUT_SECONDS) -> None:
        address = parse_store_url(url)
        self.prefix, self.url = address.prefix, address.redacted
        options: dict[str, Any] = {"socket_connect_timeout": 1.0, "retry": Retry(NoBackoff(), 0)}
        self.client = address.client(socket_timeout=2.0, **options)
        self.listener_client = address.client(socket_timeout=None, **options)
        try:
            self.client.ping()
        except RedisError as error:
            raise ConfigurationError(
                f"cannot reach the state store {self.url}: {address.explain(error)}"
            ) from None
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.ack_timeout = ack_timeout
        self.channel = f"{self.prefix}changes"
        self.stopping = threading.Event()  # set when the process closes the store: background work ends
        self.available = True
        self._local = threading.local()

    def key(self, *parts: str) -> str:
        """A key of this emulator's store (under its prefix)."""
        return self.prefix + ":".join(parts)

    def unavailable(self, error: Exception) -> StateUnavailable:
        """Note that Redis is away; the error to raise."""
        self.available = False
        return StateUnavailable(f"the shared state store {self.url} is unavailable ({type(error).__name__})")

    # ------------------------------------------------------------------ this thread's flags

    def is_applying(self) -> bool:
        """Whether this thread is applying another process's change (nothing is put back then)."""
        return bool(getattr(self._local, "applying", False))

    @contextlib.contextmanager
    def applying(self) -> Iterator[None]:
        before = self.is_applying()
        self._local.applying = True
        try:
            yield
        finally:
            self._local.applying = before

    def held_locks(self) -> dict[str, int]:
        """How deep this thread holds each vendor's lock (the lock is re-entrant in a thread)."""
        held: dict[str, int] = getattr(self._local, "locks", None) or {}
        self._local.locks = held
        return held

    # ------------------------------------------------------------------ the change channel

    def announce(
        self, pipe: Any, vendor: str, part: str, wait: bool, *, generation: str | None = None
    ) -> tuple[list[Any], int | None]:
        """Publish a change (with what ``pipe`` already holds, in one transaction when ``pipe`` is one);
        with ``wait``, until every live process has applied it. Returns the replies of what ``pipe``
        held before, and the change's number when ``generation`` names the counter that numbers the
        changes (the counter is incremented and the number published in the same transaction)."""
        change = uuid.uuid4().hex
        message = {"id": change, "origin": self.worker, "vendor": vendor, "part": part, "ack": wait}
        if wait:  # a process that reconnects meanwhile confirms it after reloading (it missed the message)
            pipe.set(self.key("pending", change), 1, ex=int(self.ack_timeout) + 5)
        if generation is None:
            pipe.publish(self.channel, orjson.dumps(message))
        else:  # {"id": ..., "gen": N}: the number is known only inside the transaction
            pipe.eval(PUBLISH_NUMBERED, 1, generation, self.channel, orjson.dumps(message)[:-1] + b',"gen":')
        pipe.hgetall(self.key("workers"))
        *results, published, workers = pipe.execute()
        if wait:
            results = results[:-1]
        number = None
        if generation is not None:
            number, receivers = int(published[0]), int(published[1])
        else:
            receivers = int(published)
        if wait:
            now = time.time()
            live = sum(1 for seen in workers.values() if now - float(seen) < HEARTBEAT_SECONDS * 3)
            self._wait_for(change, max(receivers, live))
        return results, number

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

    def confirm(self, change: str) -> None:
        """Tell the announcer of ``change`` that this process applied it."""
        key = self.key("ack", change)
        pipe = self.client.pipeline(transaction=False)
        pipe.rpush(key, 1)
        pipe.expire(key, 30)
        pipe.execute()

    def flush_everywhere(self) -> None:
        """Ask every process to write the journal entries it holds, and wait for them (journal reads)."""
        try:
            self.announce(self.client.pipeline(transaction=False), "", "flush", True)
        except RedisError as error:
            raise self.unavailable(error) from None

    def close(self) -> None:
        with contextlib.suppress(RedisError):
            self.client.hdel(self.key("workers"), self.worker)
        self.client.close()
        self.listener_client.close()
