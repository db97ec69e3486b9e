"""Faults: make a vendor fail or slow down, per request (``Prefer`` header) or until told otherwise.

``Prefer: code=429`` (Prism's convention) answers that status in the vendor's own error shape, with the
vendor's headers (``Retry-After``, Famulor's ``X-RateLimit-*``); ``Prefer: delay=200`` waits 200 ms
first. Persistent faults are rules: "the next 3 requests to this path fail with 503", "every request
is 200 ms slower". Rules are scoped to a tenant, or to everyone.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

PREFERENCE = re.compile(r"\s*([a-z_]+)\s*=\s*([0-9]+)\s*", re.IGNORECASE)
MAX_DELAY_SECONDS = 30.0


@dataclass(frozen=True)
class Fault:
    """What to do to one request: answer ``status`` (if set) after ``delay`` seconds."""

    status: int | None = None
    delay: float = 0.0


def preferred(headers: Mapping[str, str]) -> Fault | None:
    """The fault a ``Prefer`` header asks for (``code=NNN``, ``delay=MS``); None if it asks for none."""
    value = headers.get("prefer")
    if not value:
        return None
    found = {}
    for part in value.split(","):
        match = PREFERENCE.fullmatch(part)
        if match is not None:
            found[match.group(1).lower()] = int(match.group(2))
    status = found.get("code")
    if status is not None and not 400 <= status <= 599:
        status = None
    delay = min(found.get("delay", 0) / 1000, MAX_DELAY_SECONDS)
    return Fault(status, delay) if status is not None or delay else None


@dataclass
class FaultRule:
    """A persistent fault. ``remaining`` None means for ever; ``path``/``tenant`` None means any."""

    status: int | None = None
    delay: float = 0.0
    remaining: int | None = None
    path: str | None = None
    tenant: str | None = None
    id: int = field(default=0)

    def applies(self, tenant: str | None, path: str) -> bool:
        """Whether this rule covers a request of ``tenant`` to ``path``."""
        return (self.tenant is None or self.tenant == tenant) and (self.path is None or self.path == path)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form (the admin API returns these)."""
        return {
            "id": self.id, "status": self.status, "delay": self.delay, "remaining": self.remaining,
            "path": self.path, "tenant": self.tenant,
        }  # fmt: skip


class Faults:
    """The persistent fault rules of one vendor."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._next_id = 1

    def add(self, rule: FaultRule) -> FaultRule:
        """Install a rule; rules are consulted in the order they were added."""
        if rule.status is not None and not 400 <= rule.status <= 599:
            raise ValueError(f"a fault status must be 4xx or 5xx, got {rule.status}")
        if not 0 <= rule.delay <= MAX_DELAY_SECONDS:
            raise ValueError(f"a delay must be between 0 and {MAX_DELAY_SECONDS} s, got {rule.delay}")
        if rule.remaining is not None and rule.remaining < 1:
            raise ValueError(f"times must be at least 1, got {rule.remaining}")
        with self._lock:
            rule.id = self._next_id
            self._next_id += 1
            self._rules.append(rule)
        return rule

    def take(self, tenant: str | None, path: str) -> Fault | None:
        """The fault for one request (a failing rule counts down; delays add up), or None."""
        status: int | None = None
        delay = 0.0
        with self._lock:
            for rule in list(self._rules):
                if not rule.applies(tenant, path) or (status is not None and rule.status is not None):
                    continue
                status = rule.status if rule.status is not None else status
                delay += rule.delay
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._rules.remove(rule)
        return Fault(status, min(delay, MAX_DELAY_SECONDS)) if status is not None or delay else None

    def rules(self, tenant: str | None = None) -> list[FaultRule]:
        """The active rules (of one tenant, or all)."""
        with self._lock:
            return [rule for rule in self._rules if tenant is None or rule.tenant == tenant]

    def clear(self, tenant: str | None = None) -> None:
        """Remove the rules of one tenant, or all."""
        with self._lock:
            self._rules = [rule for rule in self._rules if tenant is not None and rule.tenant != tenant]
