"""The small interface between the emulator's state and a backend that shares it between processes.

What is shared is a set of *parts* per vendor, each replaced whole when it changes: ``data:<tenant>
<NUL><dataset>`` (the records, as a JSON array), ``credentials`` (key digests and their tenants),
``rate_limits`` (on or off), ``writes:<tenant>`` (a tenant's clock offset, switches and scheduled
releases), plus the ``reset`` event; a part is put while the vendor is held ``exclusive``, and its value
computed from the current state. Fault rules are not a part: each rule is added, removed or counted
down on its own (``add_rule``, ``remove_rule``, ``clear_rules``, ``take_count``), so that two changes
at once never undo one another; the applier gets the ``faults`` part (the whole current list) after
each. The emulator changes its own memory only after the store accepted a change, so a process never
holds a change that the store refused; other processes apply it when the store tells them (``apply``
callbacks, hooks suppressed).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from mockserver.errors import EmulatorError
from mockserver.state.journal import Journal, JournalBudget
from mockserver.state.rate_limiter import RateLimiter

# (vendor, part, value) -> None: apply a change made by another process to this one's memory.
Applier = Callable[[str, str, Any], None]


class StateUnavailable(EmulatorError):  # noqa: N818 - reads as the condition
    """The shared store cannot be reached: the change was not made (admin API: 503)."""


def redacted_url(url: str) -> str:
    """A store URL without its passwords (user info and ``*password*`` parameters), for messages.

    Read as text, not parsed: everything up to the last ``@`` is user info, so that a password with an
    unencoded ``/``, ``#`` or ``@`` is hidden too (a ``@`` further on, in a parameter, hides more).
    """
    scheme, separator, rest = url.partition("://")
    userinfo, at, after = rest.rpartition("@")
    if ":" in userinfo:
        userinfo = userinfo.partition(":")[0] + ":[redacted]"
    head, mark, query = after.partition("?")
    if mark:
        query = "&".join(
            f"{pair.partition('=')[0]}=[redacted]" if "password" in pair.partition("=")[0].lower() else pair
            for pair in query.split("&")
        )
    return f"{scheme}{separator}{userinfo}{at}{head}{mark}{query}"


class SharedState(Protocol):
    """What VendorDatasets, Faults, VendorApp and the journal need from a backend."""

    @property
    def shared(self) -> bool:
        """Whether other processes see the changes (False for the in-process default)."""
        ...

    def put(self, vendor: str, part: str, value: Any, *, wait: bool = True) -> None:
        """Store and announce a part's new value (None deletes it); raises StateUnavailable.

        With ``wait``, returns once every live process has applied it (read-your-writes on any worker).
        """
        ...

    def applying(self) -> contextlib.AbstractContextManager[None]:
        """A context in which changes are this process's own application of a remote one: not put."""
        ...

    def exclusive(self, vendor: str) -> contextlib.AbstractContextManager[None]:
        """A change that checks a cap (faults, keys, tenants, records) against the state, made by one
        process at a time: inside, this process's memory holds every earlier change of every process,
        so no process accepts more than the caps. Raises StateUnavailable."""
        ...

    def take_count(self, vendor: str, rule_id: int) -> int | None:
        """Count down a fault rule shared by every process: its remaining count after this request
        (negative once used up or gone; at 0 it is removed for every process), or None when the count
        is kept locally."""
        ...

    def add_rule(self, vendor: str, rule: Mapping[str, Any], max_rules: int) -> int | None:
        """Store one more fault rule (any JSON object) for every process unless ``max_rules`` are
        there: its new id, or None at the cap (shared backends only)."""
        ...

    def remove_rule(self, vendor: str, rule_id: int) -> bool:
        """Remove one fault rule for every process: whether it was there (shared backends only)."""
        ...

    def clear_rules(self, vendor: str, tenant: str | None, drifts: bool | None = None) -> None:
        """Remove a tenant's fault rules (every rule for None) for every process (shared backends only);
        ``drifts`` True: only the drift rules, False: only the others, None: both."""
        ...

    def next_id(self, vendor: str) -> int | None:
        """A fault-rule id unique across processes and vendors, or None for a local one (FaultIds)."""
        ...

    def journal(self, size: int, budget: JournalBudget | None = None) -> Journal:
        """The request journal, ``size`` entries and ``budget`` bytes per vendor and tenant (shared:
        every process's requests, in one order, bounded alike in the store)."""
        ...

    def rate_limiter(
        self, vendor: str, declaration: Mapping[str, Any], clock: Callable[[], float]
    ) -> RateLimiter:
        """A vendor's rate limiter (shared: one set of windows for every process)."""
        ...

    def start(self, applier: Applier, vendors: Sequence[str]) -> None:
        """Load the stored state into this process (through ``applier``) and follow later changes."""
        ...

    def close(self) -> None:
        """Stop background work and close connections."""
        ...


@contextlib.contextmanager
def nothing() -> Iterator[None]:
    yield
