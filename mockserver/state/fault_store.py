"""The planned faults of one vendor, kept in memory or in shared state (Redis) for every process.

Drift rules (:mod:`mockserver.drifts`) are fault rules with a ``drift``: they share the store, so the
tenancy, the cap, ``times``, Redis and ``--state-dir`` treat them as faults.
"""

from __future__ import annotations

import threading
from typing import Any

from mockserver.state.backends import InMemory, SharedState
from mockserver.state.faults import (
    MAX_DELAY_SECONDS,
    DriftUse,
    Fault,
    FaultIds,
    FaultLimitError,
    FaultRule,
    is_int,
    rule_from_item,
)


class Faults:
    """The persistent fault rules of one vendor.

    With a shared backend the rules are stored for every process, one by one: adding (with the cap),
    removing, clearing and counting down are each one atomic change in the store, which then tells
    every process to read the current rules (``applied``); this process never writes back a list of
    its own, so no change made elsewhere meanwhile is lost. A counted rule's countdown is kept by the
    store, so "the next 3 requests" means 3 in all, whichever process answers them. Rule ids come from
    the store too (one counter for every vendor and process), so an id names one rule everywhere; in
    one process they come from ``ids``, one FaultIds per emulator. The store keeps a rule as its
    ``as_dict()`` JSON, whatever fields it has.
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
        self.drifting = False  # whether any rule is a drift rule (kept with the rules: read per request)
        self._lock = threading.Lock()
        self._ids = ids if ids is not None else FaultIds()
        self.vendor = vendor
        self.shared: SharedState = shared or InMemory()

    def applied(self, rules: list[dict[str, Any]] | None) -> None:
        """Another process changed the rules: mirror them here."""
        with self._lock:
            self._keep([rule_from_item(item) for item in rules or []])

    def add(self, rule: FaultRule, *, keep_id: bool = False) -> FaultRule:
        """Install a rule; rules are consulted in the order they were added.

        ``keep_id``: the rule keeps the id it has (a rule restored from ``--state-dir``), and later rules
        get higher ids; without it (or when the id is taken or not positive) it gets the next free id.
        """
        if rule.status is not None and (not is_int(rule.status) or not 400 <= rule.status <= 599):
            raise ValueError(f"a fault status is an integer from 400 to 599, got {rule.status!r}")
        if (
            isinstance(rule.delay, bool)
            or not isinstance(rule.delay, int | float)
            or not 0 <= rule.delay <= MAX_DELAY_SECONDS
        ):
            raise ValueError(
                f"a delay is a number of seconds from 0 to {MAX_DELAY_SECONDS:g}, got {rule.delay!r}"
            )
        if rule.remaining is not None and (not is_int(rule.remaining) or rule.remaining < 1):
            raise ValueError(f"times is a whole number of at least 1, got {rule.remaining!r}")
        if rule.probability is not None and (
            isinstance(rule.probability, bool)
            or not isinstance(rule.probability, int | float)
            or not 0 < rule.probability <= 1
        ):
            raise ValueError(f"probability is a number above 0 and at most 1, got {rule.probability!r}")
        for name in ("path", "tenant"):
            if getattr(rule, name) is not None and not isinstance(getattr(rule, name), str):
                raise ValueError(f"{name} is a string, got {getattr(rule, name)!r}")
        if self.shared.shared:  # one atomic change in the store, the cap counting every process's rules
            stored = self.shared.add_rule(self.vendor, rule.as_dict(), self.max_rules)
            if stored is None:
                raise FaultLimitError(f"at most {self.max_rules} fault rules at a time (--max-faults)")
            rule.id = stored
            return rule
        with self._lock:
            if len(self._rules) >= self.max_rules:
                raise FaultLimitError(f"at most {self.max_rules} fault rules at a time (--max-faults)")
            rule.id = self._ids.claim(rule.id) if keep_id else self._ids.next()
            self._keep([*self._rules, rule])
        return rule

    def take(self, tenant: str | None, path: str) -> Fault | None:
        """The fault for one request (a failing rule counts down; delays add up), or None."""
        if not self._rules:  # the usual case, read without the lock: no rule, no fault
            return None
        status: int | None = None
        delay = 0.0
        matched: list[int] = []
        drifts: list[DriftUse] = []
        with self._lock:
            for rule in list(self._rules):
                if not rule.applies(tenant, path) or (status is not None and rule.status is not None):
                    continue
                if rule.probability is not None and not rule.draws():
                    continue
                if rule.remaining is not None:
                    left = self.shared.take_count(self.vendor, rule.id)
                    rule.remaining = rule.remaining - 1 if left is None else left
                    if rule.remaining <= 0:  # the store removed it for every process (shared)
                        self._keep([kept for kept in self._rules if kept is not rule])
                    if rule.remaining < 0:  # other processes used it up first
                        continue
                status = rule.status if rule.status is not None else status
                delay += rule.delay
                matched.append(rule.id)
                if rule.drift is not None:
                    drifts.append((rule.drift, tuple(sorted(rule.params.items()))))
        if status is None and not delay and not drifts:
            return None
        return Fault(status, min(delay, MAX_DELAY_SECONDS), tuple(matched), drifts=tuple(drifts))

    def remove(self, rule_id: int) -> bool:
        """Remove one rule by its id (on every process); False if there is none (any more)."""
        if self.shared.shared:
            return self.shared.remove_rule(self.vendor, rule_id)
        with self._lock:
            kept = [rule for rule in self._rules if rule.id != rule_id]
            removed = len(kept) != len(self._rules)
            self._keep(kept)
        return removed

    def drift_rules(self, tenant: str | None, path: str) -> list[FaultRule]:
        """The drift rules covering a request, not counted down (drifts that act before authentication)."""
        if not self._rules:
            return []
        with self._lock:
            return [rule for rule in self._rules if rule.drift is not None and rule.applies(tenant, path)]

    def rules(self, tenant: str | None = None) -> list[FaultRule]:
        """The active rules (of one tenant, or all)."""
        with self._lock:
            return [rule for rule in self._rules if tenant is None or rule.tenant == tenant]

    def clear(self, tenant: str | None = None, *, drifts: bool | None = None) -> None:
        """Remove the rules of one tenant, or all; ``drifts`` True: only drift rules, False: only faults."""
        if self.shared.shared:
            self.shared.clear_rules(self.vendor, tenant, drifts)
            return
        with self._lock:
            self._keep(
                [
                    rule
                    for rule in self._rules
                    if (tenant is not None and rule.tenant != tenant)
                    or (drifts is not None and (rule.drift is not None) != drifts)
                ]
            )

    def _keep(self, rules: list[FaultRule]) -> None:
        """Make ``rules`` the rules (under the lock), ``drifting`` set before they are seen."""
        drifting = any(rule.drift is not None for rule in rules)
        if drifting:
            self.drifting = True
        self._rules = rules
        self.drifting = drifting
