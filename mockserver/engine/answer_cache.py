"""The answer cache: whole replies, shared by every endpoint, bounded in bytes (least recently used go).

A key names the endpoint, the dataset generation, the tenant and the *normalised* query: only the
parameters the endpoint reads, so ``?u=1``, ``?u=2``... do not make new entries.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

ENTRY_OVERHEAD = 300  # bytes of an entry's key tuple, Reply object and dict slot besides the body


class AnswerCache:
    """An LRU map from keys to replies, holding at most ``budget`` bytes (by the replies' body sizes)."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def stored_bytes(self) -> int:
        """The bytes the cache counts as held."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> Any:
        """The cached value, or None (a hit makes the entry the most recently used)."""
        found = self._items.get(key)
        if found is None:
            return None
        try:  # (not contextlib.suppress: this is on every request, and a with costs more than a try)
            self._items.move_to_end(key)
        except KeyError:
            return found[0]  # evicted by another thread in between: still a valid answer
        return found[0]

    def put(self, key: Hashable, value: Any, size: int) -> None:
        """Keep ``value``; an entry larger than the whole budget is not kept."""
        cost = size + ENTRY_OVERHEAD
        if cost > self.budget:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, cost)
            self._bytes += cost
            while self._bytes > self.budget:
                _, (_, freed) = self._items.popitem(last=False)
                self._bytes -= freed

    def forget(self, tenant: str) -> None:
        """Drop every answer given to ``tenant`` (a key's tenant is its third item)."""
        with self._lock:
            for key in [key for key in self._items if isinstance(key, tuple) and key[2] == tenant]:
                self._bytes -= self._items.pop(key)[1]

    def clear(self) -> None:
        """Drop everything."""
        with self._lock:
            self._items.clear()
            self._bytes = 0
