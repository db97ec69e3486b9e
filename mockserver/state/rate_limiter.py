"""Opt-in emulation of a vendor's documented rate limits (sliding windows per tenant)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Window:
    """At most ``requests`` per ``seconds``."""

    requests: int
    seconds: float


@dataclass(frozen=True)
class Verdict:
    """Whether a request may pass, and what the vendor's rate-limit headers say about it."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int


class RateLimiter:
    """Sliding windows per tenant; ``clock`` is injectable so tests need not wait."""

    def __init__(self, windows: Sequence[Window], clock: Callable[[], float] = time.monotonic) -> None:
        self.windows = tuple(windows)
        self.clock = clock
        self._hits: dict[tuple[str | None, Window], deque[float]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_declaration(
        cls, declaration: Mapping[str, Any], clock: Callable[[], float] = time.monotonic
    ) -> RateLimiter:
        """Build from ``x-emulator.rate_limits``."""
        return cls([Window(item["requests"], item["seconds"]) for item in declaration["windows"]], clock)

    def check(self, tenant: str | None) -> Verdict:
        """Count one request of ``tenant`` if every window has room; otherwise refuse it."""
        now = self.clock()
        with self._lock:
            queues = [(window, self._queue(tenant, window, now)) for window in self.windows]
            full = [(window, hits) for window, hits in queues if len(hits) >= window.requests]
            if full:
                wait = max(hits[0] + window.seconds - now for window, hits in full)
                first = full[0][0]
                return Verdict(False, first.requests, 0, self._reset(wait), max(1, math.ceil(wait)))
            for _, hits in queues:
                hits.append(now)
            window, hits = min(queues, key=lambda pair: pair[0].requests - len(pair[1]))
            wait = hits[0] + window.seconds - now
            return Verdict(True, window.requests, window.requests - len(hits), self._reset(wait), 0)

    def _queue(self, tenant: str | None, window: Window, now: float) -> deque[float]:
        hits = self._hits.setdefault((tenant, window), deque())
        while hits and hits[0] <= now - window.seconds:
            hits.popleft()
        return hits

    @staticmethod
    def _reset(wait: float) -> int:
        return math.ceil(time.time() + max(wait, 0))

    def forget(self, tenant: str) -> None:
        """Drop the windows of one tenant."""
        with self._lock:
            for key in [key for key in self._hits if key[0] == tenant]:
                del self._hits[key]

    def reset(self) -> None:
        """Forget every counted request."""
        with self._lock:
            self._hits.clear()
