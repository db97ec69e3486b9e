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
from typing import Any

from mockserver.state_backends import InMemory, SharedState

PREFERENCE = re.compile(r"\s*([a-z_]+)\s*=\s*([0-9]+)\s*", re.IGNORECASE)
MAX_DELAY_SECONDS = 30.0
MAX_DIGITS = 12


@dataclass(frozen=True)
class Fault:
    """What to do to one request: answer ``status`` (if set) after ``delay`` seconds."""

    status: int | None = None
    delay: float = 0.0
    rules: tuple[int, ...] = ()
    asked: bool = False

    def describe(self) -> str | None:
        """What the journal shows: ``503 + 200 ms (rule 2)``, ``429 (Prefer)``; None when nothing applied."""
        if self.status is None and not self.delay:
            return None
        parts = [str(self.status)] if self.status is not None else []
        if self.delay:
            parts.append(f"{self.delay * 1000:g} ms")
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
    return Fault(status, min(delay, MAX_DELAY_SECONDS), rules, asked is not None)


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


def _is_int(value: object) -> bool:
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
            if _is_int(wanted) and isinstance(wanted, int) and wanted > self._last:
                self._last = wanted
            else:
                self._last += 1
            return self._last


class FaultLimitError(ValueError):
    """One more rule would pass the cap on rules."""


def _rule(item: dict[str, Any]) -> FaultRule:
    return FaultRule(
        status=item["status"], delay=item["delay"], remaining=item["remaining"],
        path=item["path"], tenant=item["tenant"], id=item["id"],
    )  # fmt: skip


class Faults:
    """The persistent fault rules of one vendor.

    With a shared backend the rules are stored for every process (the ``faults`` part) and a counted
    rule's countdown is kept by the store, so "the next 3 requests" means 3 in all, whichever process
    answers them. Rule ids come from the store too (one counter for every vendor and process), so an id
    names one rule everywhere; in one process they come from ``ids``, one FaultIds per emulator.
    """

    def __init__(
        self,
        max_rules: int = 1000,
        vendor: str = "",
        shared: SharedState | None = None,
        ids: FaultIds | None = None,
    ) -> None:
        """``ids``: where rule ids come from; an emulator shares one among its vendors (ids unique)."""
        self.max_rules = max_rules
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._ids = ids if ids is not None else FaultIds()
        self.vendor = vendor
        self.shared: SharedState = shared or InMemory()

    def _publish(self, rules: list[FaultRule], *, wait: bool = True) -> None:
        if self.shared.shared:
            self.shared.put(self.vendor, "faults", [rule.as_dict() for rule in rules], wait=wait)

    def applied(self, rules: list[dict[str, Any]] | None) -> None:
        """Another process changed the rules: mirror them here."""
        with self._lock:
            self._rules = [_rule(item) for item in rules or []]

    def add(self, rule: FaultRule, *, keep_id: bool = False) -> FaultRule:
        """Install a rule; rules are consulted in the order they were added.

        ``keep_id``: the rule keeps the id it has (a rule restored from ``--state-dir``), and later rules
        get higher ids; without it (or when the id is taken or not positive) it gets the next free id.
        """
        if rule.status is not None and (not _is_int(rule.status) or not 400 <= rule.status <= 599):
            raise ValueError(f"a fault status is an integer from 400 to 599, got {rule.status!r}")
        if (
            isinstance(rule.delay, bool)
            or not isinstance(rule.delay, int | float)
            or not 0 <= rule.delay <= MAX_DELAY_SECONDS
        ):
            raise ValueError(
                f"a delay is a number of seconds from 0 to {MAX_DELAY_SECONDS:g}, got {rule.delay!r}"
            )
        if rule.remaining is not None and (not _is_int(rule.remaining) or rule.remaining < 1):
            raise ValueError(f"times is a whole number of at least 1, got {rule.remaining!r}")
        for name in ("path", "tenant"):
            if getattr(rule, name) is not None and not isinstance(getattr(rule, name), str):
                raise ValueError(f"{name} is a string, got {getattr(rule, name)!r}")
        with self.shared.exclusive(self.vendor):  # the cap counts every process's rules
            if len(self._rules) >= self.max_rules:
                raise FaultLimitError(f"at most {self.max_rules} fault rules at a time (--max-faults)")
            shared_id = self.shared.next_id(self.vendor)
            with self._lock:
                if len(self._rules) >= self.max_rules:
                    raise FaultLimitError(f"at most {self.max_rules} fault rules at a time (--max-faults)")
                if shared_id is not None:
                    rule.id = shared_id
                else:
                    rule.id = self._ids.claim(rule.id) if keep_id else self._ids.next()
                rules = [*self._rules, rule]
                self._publish(rules)
                self._rules = rules
        return rule

    def take(self, tenant: str | None, path: str) -> Fault | None:
        """The fault for one request (a failing rule counts down; delays add up), or None."""
        if not self._rules:  # the usual case, read without the lock: no rule, no fault
            return None
        status: int | None = None
        delay = 0.0
        matched: list[int] = []
        with self._lock:
            used_up = False
            for rule in list(self._rules):
                if not rule.applies(tenant, path) or (status is not None and rule.status is not None):
                    continue
                if rule.remaining is not None:
                    left = self.shared.take_count(self.vendor, rule.id)
                    rule.remaining = rule.remaining - 1 if left is None else left
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                        used_up = True
                    if rule.remaining < 0:  # other processes used it up first
                        continue
                status = rule.status if rule.status is not None else status
                delay += rule.delay
                matched.append(rule.id)
            if used_up:
                self._publish(self._rules, wait=False)
        if status is None and not delay:
            return None
        return Fault(status, min(delay, MAX_DELAY_SECONDS), tuple(matched))

    def remove(self, rule_id: int) -> bool:
        """Remove one rule by its id (on every process); False if there is none (any more)."""
        with self.shared.exclusive(self.vendor), self._lock:
            kept = [rule for rule in self._rules if rule.id != rule_id]
            removed = len(kept) != len(self._rules)
            if removed:
                self._publish(kept)
            self._rules = kept
        return removed

    def rules(self, tenant: str | None = None) -> list[FaultRule]:
        """The active rules (of one tenant, or all)."""
        with self._lock:
            return [rule for rule in self._rules if tenant is None or rule.tenant == tenant]

    def clear(self, tenant: str | None = None) -> None:
        """Remove the rules of one tenant, or all."""
        with self._lock:
            rules = [rule for rule in self._rules if tenant is not None and rule.tenant != tenant]
            self._publish(rules)
            self._rules = rules
