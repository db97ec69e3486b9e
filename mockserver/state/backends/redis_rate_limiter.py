"""Rate-limit windows shared by every process, kept in Redis (see redis_state for the whole backend)."""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from redis.exceptions import RedisError

from mockserver.state.backends.redis_connection import NO_TENANT, RedisConnection
from mockserver.state.rate_limiter import RateLimiter, Verdict, Window

logger = logging.getLogger("mockserver")

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


class SharedRateLimiter(RateLimiter):
    """Sliding windows per tenant kept in Redis (sorted sets), checked by one script per request.

    Uses the wall clock (``time.time``), the one clock that processes on several hosts share. While
    Redis is unreachable, this process's own windows decide (a warning is logged).
    """

    def __init__(
        self, link: RedisConnection, vendor: str, windows: Sequence[Window], clock: Callable[[], float]
    ) -> None:
        super().__init__(windows, clock)
        self.link = link
        self._script = link.client.register_script(RATE_SCRIPT)
        self.vendor = vendor
        self._count = 0

    def forget(self, tenant: str) -> None:
        """Drop one tenant's windows here and, unless mirroring another process, in Redis."""
        super().forget(tenant)
        if self.link.is_applying():
            return
        keys = [
            self.link.key("rate", self.vendor, tenant, f"{window.requests}/{window.seconds}")
            for window in self.windows
        ]
        with contextlib.suppress(RedisError):  # unreachable: the windows expire on their own
            pipe = self.link.client.pipeline(transaction=False)
            pipe.delete(*keys)
            pipe.srem(self.link.key("rate", self.vendor), *keys)
            pipe.execute()

    def check(self, tenant: str | None) -> Verdict:
        now = time.time()
        self._count += 1
        keys = [
            self.link.key("rate", self.vendor, tenant or NO_TENANT, f"{w.requests}/{w.seconds}")
            for w in self.windows
        ]
        arguments: list[Any] = [repr(now), f"{now!r}:{self.link.worker}:{self._count}"]
        for window in self.windows:
            arguments += [window.requests, window.seconds]
        arguments.append(self.link.key("rate", self.vendor))
        try:
            allowed, index, remaining, wait_text = self._script(keys=keys, args=arguments)
        except RedisError:
            if self.link.available:
                logger.warning("state: rate limits of %s counted in this process only", self.vendor)
            self.link.available = False
            return super().check(tenant)
        window, wait = self.windows[int(index) - 1], float(wait_text)
        if not allowed:
            return Verdict(False, window.requests, 0, self._reset(wait), max(1, math.ceil(wait)))
        return Verdict(True, window.requests, int(remaining), self._reset(wait), 0)
