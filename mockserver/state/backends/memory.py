"""The default backend: state lives in this process only; nothing is stored or announced elsewhere."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mockserver.state.backends.base import Applier, nothing
from mockserver.state.journal import Journal, JournalBudget
from mockserver.state.rate_limiter import RateLimiter


class InMemory:
    """One process, in-memory state, no extra service (what ``serve`` and the test kits use)."""

    shared = False

    def put(self, vendor: str, part: str, value: Any, *, wait: bool = True) -> None:
        return None

    def applying(self) -> contextlib.AbstractContextManager[None]:
        return nothing()

    def exclusive(self, vendor: str) -> contextlib.AbstractContextManager[None]:
        return nothing()  # the callers' own locks suffice in one process

    def take_count(self, vendor: str, rule_id: int) -> int | None:
        return None

    def add_rule(self, vendor: str, rule: Mapping[str, Any], max_rules: int) -> int | None:
        raise NotImplementedError("rules are kept by Faults itself in one process")

    def remove_rule(self, vendor: str, rule_id: int) -> bool:
        return False  # nothing is stored elsewhere: Faults keeps the rules itself

    def clear_rules(self, vendor: str, tenant: str | None, drifts: bool | None = None) -> None:
        return None

    def next_id(self, vendor: str) -> int | None:
        return None

    def journal(self, size: int, budget: JournalBudget | None = None) -> Journal:
        return Journal(size, budget)

    def rate_limiter(
        self, vendor: str, declaration: Mapping[str, Any], clock: Callable[[], float]
    ) -> RateLimiter:
        return RateLimiter.from_declaration(declaration, clock)

    def start(self, applier: Applier, vendors: Sequence[str]) -> None:
        return None

    def close(self) -> None:
        return None
