"""Faults: make a vendor fail or slow down, per request (``Prefer`` header) or until told otherwise.

``Prefer: code=429`` (Prism's convention) answers that status in the vendor's own error shape, with the
vendor's headers (``Retry-After``, Famulor's ``X-RateLimit-*``); ``Prefer: delay=200`` waits 200 ms
first. Persistent faults are rules: "the next 3 requests to this path fail with 503", "every request
is 200 ms slower". Rules are scoped to a tenant, or to everyone. A drift rule (``drift`` set) changes
the answer instead (:mod:`mockserver.drifts`), to every request or to a share of them (``probability``).
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PREFERENCE = re.compile(r"\s*([a-z_]+)\s*=\s*([0-9]+)\s*", re.IGNORECASE)
MAX_DELAY_SECONDS = 30.0
MAX_DIGITS = 12
DriftUse = tuple[str, tuple[tuple[str, Any], ...]]  # a drift's id and its given parameters (sorted pairs)
CHANCE = random.Random()  # noqa: S311 - draws for rules with a probability: no secret


@dataclass(frozen=True)
class Fault:
    """What to do to one request: answer ``status`` (if set) after ``delay`` seconds."""

    status: int | None = None
    delay: float = 0.0
    rules: tuple[int, ...] = ()
    asked: bool = False
    drifts: tuple[DriftUse, ...] = ()  # the drifts of the matching drift rules (mockserver.drifts)

    def describe(self) -> str | None:
        """What the journal shows: ``503 + 200 ms (rule 2)``, ``429 (Prefer)``; None when nothing applied."""
        if self.status is None and not self.delay and not self.drifts:
            return None
        parts = [str(self.status)] if self.status is not None else []
        if self.delay:
            parts.append(f"{self.delay * 1000:g} ms")
        parts.extend(f"drift {drift_id}" for drift_id, _ in self.drifts)
        sources = [*(["Prefer"] if self.asked else []), *(f"rule {rule}" for rule in self.rules)]
        return " + ".join(parts) + (f" ({', '.join(sources)})" if sources else "")


def preferred(headers: Mapping[str, str]) -> Fault | None:
    """The fault a ``Prefer`` header asks for (``code=NNN``, ``delay=MS``); None if it asks for none."""
    value = headers.get("prefer")
    if not value:
        return None
    found = {}
    for part in value.split(","):
        match = PREFERENCE.fullmatch(part)
        if match is not None:  # beyond 12 digits a number is "too large" whatever it is: never int() it
            digits = match.group(2).lstrip("0") or "0"
            found[match.group(1).lower()] = int(digits) if len(digits) <= MAX_DIGITS else 10**MAX_DIGITS
    status = found.get("code")
    if status is not None and not 400 <= status <= 599:
        status = None
    delay = min(found.get("delay", 0) / 1000, MAX_DELAY_SECONDS)
    return Fault(status, delay, asked=True) if status is not None or delay else None


NO_FAULT = Fault()


def combined(asked: Fault | None, planned: Fault | None) -> Fault:
    """A request's fault: the ``Prefer`` status wins over a rule's; their delays add up."""
    if asked is None and planned is None:
        return NO_FAULT  # the usual case: nothing to build
    status = asked.status if asked and asked.status is not None else (planned.status if planned else None)
    delay = (asked.delay if asked else 0.0) + (planned.delay if planned else 0.0)
    rules = planned.rules if planned else ()
    drifts = planned.drifts if planned else ()
    return Fault(status, min(delay, MAX_DELAY_SECONDS), rules, asked is not None, drifts)


@dataclass
class FaultRule:
    """A persistent fault. ``remaining`` None means for ever; ``path``/``tenant`` None means any.

    A drift rule (``drift`` set: an id of :mod:`mockserver.drifts`, with its ``params``) changes the
    answer instead of failing it; ``probability`` (any rule) applies it to that share of the requests.
    """

    status: int | None = None
    delay: float = 0.0
    remaining: int | None = None
    path: str | None = None
    tenant: str | None = None
    id: int = field(default=0)
    drift: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    probability: float | None = None

    def draws(self) -> bool:
        """Whether the rule applies to this request (always, without a probability)."""
        return self.probability is None or CHANCE.random() < self.probability

    def drift_use(self) -> DriftUse | None:
        """The drift this rule switches on, or None for a fault."""
        return None if self.drift is None else (self.drift, tuple(sorted(self.params.items())))

    def applies(self, tenant: str | None, path: str) -> bool:
        """Whether this rule covers a request of ``tenant`` to ``path``."""
        return (self.tenant is None or self.tenant == tenant) and (self.path is None or self.path == path)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form (the admin API returns these)."""
        found: dict[str, object] = {
            "id": self.id, "status": self.status, "delay": self.delay, "remaining": self.remaining,
            "path": self.path, "tenant": self.tenant,
        }  # fmt: skip
        if self.drift is not None:
            found.update(drift=self.drift, params=dict(self.params))
        if self.probability is not None:
            found["probability"] = self.probability
        return found


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class FaultIds:
    """Where rule ids come from: one per emulator, shared by its vendors, so an id names one rule.

    Restored rules keep their ids (``claim``, in increasing order) and new ones count on from the highest
    id seen, so an id stays the same across a restart and is never given twice.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self) -> int:
        """A new id, higher than every id given or claimed so far."""
        with self._lock:
            self._last += 1
            return self._last

    def claim(self, wanted: object) -> int:
        """``wanted`` when it is a whole number higher than every id given so far; else a new id."""
        with self._lock:
            if is_int(wanted) and isinstance(wanted, int) and wanted > self._last:
                self._last = wanted
            else:
                self._last += 1
            return self._last


class FaultLimitError(ValueError):
    """One more rule would pass the cap on rules."""


def rule_from_item(item: dict[str, Any]) -> FaultRule:
    return FaultRule(
        status=item["status"], delay=item["delay"], remaining=item["remaining"],
        path=item["path"], tenant=item["tenant"], id=item["id"], drift=item.get("drift"),
        params=dict(item.get("params") or {}), probability=item.get("probability"),
    )  # fmt: skip
