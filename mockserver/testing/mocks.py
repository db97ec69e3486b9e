"""Test helpers: route the vendors' real hosts to the emulator, in-process, for every Python HTTP client.

    with mock_vendors() as vendors:                       # or @mock_vendors(), or the pytest fixtures
        vendors.butter.seed([{"status": "free"}])
        ...  # your code calls https://api.getbutter.ai/api/phone-numbers with httpx, requests or aiohttp
        vendors.butter.assert_called(times=1, status="free")

Requests to the vendors' hosts (``app.famulor.de``, ``api.getbutter.ai``, ``api.contactship.ai``,
``*.mindhunters.ai``) are answered by the emulator's engine, called directly (no server, no socket):
httpx through respx, ``requests`` at ``HTTPAdapter.send`` (extra ``[requests]``), aiohttp through aioresponses
(extra ``[aiohttp]``). Any other way of reaching a vendor host (urllib, urllib3, a raw socket) fails at
once with :class:`~mockserver.intercept.VendorHostNotInterceptedError`. Requests to any other host are refused
(``other_hosts="refuse"``, the default) or passed through (``"allow"``).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from mockserver.data.seeding import records_from_file
from mockserver.engine.config import EmulatorConfig
from mockserver.engine.emulator import Emulator, build_emulator, credential_headers
from mockserver.engine.options_file import merged, read_options_file
from mockserver.engine.routing import host_pattern
from mockserver.engine.vendor_app import VendorApp
from mockserver.intercept import Interceptor, OtherHosts, SocketGuard, available_interceptors
from mockserver.kinds.auth import DEFAULT_TENANT
from mockserver.state.faults import FaultRule
from mockserver.state.journal import JournalEntry

__all__ = [
    "ActiveDrift",
    "CallsAssertionError",
    "EmulatorMock",
    "OtherHosts",
    "VendorMock",
    "host_pattern",
    "mock_vendors",
]


class CallsAssertionError(AssertionError):
    """The journal does not show the calls a test expected."""


class VendorMock:
    """One vendor of an active emulator, as a test sees it: data, calls, faults and keys."""

    def __init__(self, emulator: Emulator, vendor_id: str) -> None:
        self.emulator = emulator
        self.id = vendor_id
        self.spec = emulator.vendors[vendor_id]
        self.app: VendorApp = emulator.apps[vendor_id]
        self.headers: dict[str, str] = credential_headers(self.spec)[0]
        """Headers that authenticate as the vendor's default test credential."""
        self.base_url = self.spec.live_base_url

    # ------------------------------------------------------------------ data

    def seed(
        self,
        records: Iterable[Mapping[str, Any]] | Path | str | None = None,
        *,
        dataset: str | None = None,
        mode: Literal["replace", "extend"] = "replace",
        tenant: str | None = None,
    ) -> list[dict[str, Any]]:
        """Give the vendor these records (dicts, partial ones completed, or a fixture file's path).

        ``dataset`` defaults to the vendor's only dataset (Famulor has two: ``phone-numbers`` and
        ``whatsapp-senders``). Returns the records as stored. An invalid record raises
        :class:`~mockserver.state.records.InvalidRecord` naming the field and the rule; nothing changes then.
        """
        name = dataset or self._only_dataset()
        if isinstance(records, str | Path):
            records = records_from_file(Path(records))
        stored = self.app.datasets.seed(tenant or self._default_tenant(), name, records or [], mode=mode)
        return stored.copies()

    def records(self, dataset: str | None = None, *, tenant: str | None = None) -> list[dict[str, Any]]:
        """The records the vendor currently serves."""
        current = self.app.datasets.dataset(tenant or self._default_tenant(), dataset or self._only_dataset())
        return current.copies()

    def reset(self) -> None:
        """Back to the fixtures, the initial keys, no faults and an empty journal."""
        self.app.tenancy.reset()

    def _only_dataset(self) -> str:
        names = list(self.spec.datasets)
        if len(names) != 1:
            raise ValueError(f"{self.id} has several datasets {names}: name one with dataset=...")
        return names[0]

    def _default_tenant(self) -> str:
        return self.spec.auth.test_credentials[0].tenant or DEFAULT_TENANT

    # ------------------------------------------------------------------ keys and tenants

    def register_key(self, key: str, tenant: str | None = None) -> str:
        """Accept ``key`` as a new tenant (isolated data, journal, faults and cursors); returns its name."""
        return self.app.tenancy.register(key, tenant)

    def revoke(self, key: str) -> bool:
        """From now on ``key`` gets the vendor's invalid-key 401 (a key rotation); True if it was accepted."""
        return self.app.tenancy.revoke(key)

    # ------------------------------------------------------------------ faults

    def fail(
        self, status: int, *, times: int | None = None, path: str | None = None, tenant: str | None = None
    ) -> FaultRule:
        """The next ``times`` requests (all, if None) answer ``status`` in the vendor's error shape."""
        return self.app.faults.add(FaultRule(status=status, remaining=times, path=path, tenant=tenant))

    def slow(
        self, seconds: float, *, times: int | None = None, path: str | None = None, tenant: str | None = None
    ) -> FaultRule:
        """Delay the next ``times`` requests (all, if None) by ``seconds``."""
        return self.app.faults.add(FaultRule(delay=seconds, remaining=times, path=path, tenant=tenant))

    def clear_faults(self) -> None:
        """Remove every persistent fault (and drift)."""
        self.app.faults.clear()

    # ------------------------------------------------------------------ drifts, see docs/drifts.md

    def drift(
        self,
        drift: str,
        *,
        endpoint: str | None = None,
        times: int | None = None,
        probability: float | None = None,
        tenant: str | None = None,
        **params: Any,
    ) -> ActiveDrift:
        """Serve tomorrow's vendor change: switch drift ``drift`` on (with ``params``) until the test ends,
        or, used as a context manager, until the ``with`` block ends.

        ``endpoint`` narrows it to one path, ``times`` to the next N requests it changes, ``probability``
        to that share of requests, ``tenant`` to one tenant. A bad id or parameter raises ValueError
        listing what is allowed. ``vendor-emulator drifts --vendor ID`` lists the drifts of a vendor.
        """
        rule = self.app.add_drift(
            drift, params, endpoint=endpoint, times=times, probability=probability, tenant=tenant
        )
        return ActiveDrift(self, rule)

    def drifts(self) -> list[FaultRule]:
        """The drift rules switched on (by any tenant)."""
        return [rule for rule in self.app.faults.rules() if rule.drift is not None]

    def clear_drifts(self) -> None:
        """Switch every drift off (faults stay)."""
        self.app.faults.clear(drifts=True)

    def rate_limits(self, enabled: bool = True) -> None:
        """Emulate the vendor's documented rate limits (where it documents any)."""
        self.app.tenancy.rate_limits = enabled

    # ------------------------------------------------------------------ writes

    def advance(self, *, days: float = 0, seconds: float = 0, tenant: str | None = None) -> float:
        """Move the tenant's emulator clock forward: releases whose billing period ends take effect."""
        return self.app.writes.advance(tenant or self._default_tenant(), days=days, seconds=seconds)

    def switch(self, name: str, on: bool = True, *, tenant: str | None = None) -> None:
        """Turn a declared switch of the write operations on or off (Famulor: ``payment_failed``)."""
        self.app.writes.switch(tenant or self._default_tenant(), name, on)

    # ------------------------------------------------------------------ journal

    def calls(
        self, *, tenant: str | None = None, method: str | None = None, path: str | None = None, **params: Any
    ) -> list[JournalEntry]:
        """The requests this vendor received, oldest first, filtered by method, path and query values."""
        entries = self.emulator.journal.entries(self.id, tenant)
        return [entry for entry in entries if entry.matches(method=method, path=path, **params)]

    @property
    def last_call(self) -> JournalEntry:
        """The most recent request (AssertionError if there was none)."""
        entries = self.calls()
        if not entries:
            raise CallsAssertionError(f"{self.id} received no request")
        return entries[-1]

    def assert_called(
        self, *, times: int | None = None, path: str | None = None, **params: Any
    ) -> list[JournalEntry]:
        """Assert matching calls were made (exactly ``times`` of them, if given); returns them."""
        matching = self.calls(path=path, **params)
        wanted = f"{times} call(s)" if times is not None else "at least one call"
        if (times is None and not matching) or (times is not None and len(matching) != times):
            seen = [entry.summary() for entry in self.calls()]
            raise CallsAssertionError(
                f"{self.id}: expected {wanted} (path={path}, {params}), got {len(matching)}; received {seen}"
            )
        return matching

    def assert_not_called(self) -> None:
        """Assert the vendor received no request."""
        if self.calls():
            raise CallsAssertionError(f"{self.id} received {len(self.calls())} request(s)")


class ActiveDrift:
    """A drift switched on by :meth:`VendorMock.drift`; ``off()`` (or leaving its ``with`` block) ends it."""

    def __init__(self, vendor: VendorMock, rule: FaultRule) -> None:
        self.vendor = vendor
        self.rule = rule

    @property
    def id(self) -> str:
        """The drift's id (``field.renamed``...)."""
        return str(self.rule.drift)

    def off(self) -> None:
        """Switch the drift off (nothing happens if it was already used up or cleared)."""
        self.vendor.app.faults.remove(self.rule.id)

    def __enter__(self) -> ActiveDrift:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.off()


class EmulatorMock:
    """The emulator behind the vendors' real hosts, for the duration of a ``with`` block or a test."""

    def __init__(
        self,
        vendors: Iterable[str] | None = None,
        *,
        other_hosts: OtherHosts = "refuse",
        config: EmulatorConfig | None = None,
        emulator: Emulator | None = None,
    ) -> None:
        if other_hosts not in ("refuse", "allow"):
            raise ValueError(f"other_hosts must be 'refuse' or 'allow', got {other_hosts!r}")
        self._owned = emulator is None
        self._emulator = emulator
        self._config = config or EmulatorConfig()
        self._wanted = None if vendors is None else tuple(vendors)
        self.other_hosts = other_hosts
        self._interceptors: list[Interceptor] | None = None
        self._guard: SocketGuard | None = None
        self._active: set[str] = set()
        # Built on the first entry and started again by later ones (a decorated function called again,
        # the pytest plugin's next test): each keeps the routes it built, so an entry only patches.
        self._kit: list[Interceptor] | None = None
        self._refusing: SocketGuard | None = None

    @property
    def emulator(self) -> Emulator:
        """The emulator (built on first use)."""
        if self._emulator is None:
            self._emulator = build_emulator(self._config)
        return self._emulator

    @property
    def clients(self) -> list[str]:
        """The HTTP client libraries answered in-process while the mock is active."""
        return [interceptor.client for interceptor in self._interceptors or []]

    def __enter__(self) -> EmulatorMock:
        if self._interceptors is not None:
            raise RuntimeError("this mock is already active; use a new mock_vendors() for a nested block")
        if self._owned:
            self.emulator.reset()  # a decorated function called twice starts from the fixtures each time
        self._interceptors = []
        try:
            if self._kit is None:
                self._kit = available_interceptors(self.other_hosts)
            for interceptor in self._kit:
                interceptor.start()
                self._interceptors.append(interceptor)
            self._guard = self._new_guard()
            self._guard.start()
            for vendor_id in list(self.emulator.vendors) if self._wanted is None else self._wanted:
                self.activate(vendor_id)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _new_guard(self) -> SocketGuard:
        """The socket guard of one entry: with other hosts refused, every declared vendor's hosts.

        That guard is the same for every entry (activating a vendor blocks nothing more), so it is built
        once; with other hosts allowed it starts empty and each activated vendor adds its hosts.
        """
        if self.other_hosts == "allow":
            return SocketGuard(self.clients)
        if self._refusing is None:  # no socket may reach any declared vendor, mocked or not
            self._refusing = SocketGuard(self.clients)
            for spec in self.emulator.vendors.values():
                for host in spec.hosts:
                    self._refusing.block(host)
        return self._refusing

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """Decorate a function, sync or async: the mock is active while it runs."""
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await function(*args, **kwargs)

            return run_async

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self:
                return function(*args, **kwargs)

        return run

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for interceptor in reversed(self._interceptors or []):
            interceptor.stop()
        if self._guard is not None:
            self._guard.stop()
        self._interceptors = None
        self._guard = None
        self._active.clear()

    def activate(self, vendor_id: str) -> VendorMock:
        """Route this vendor's hosts to the emulator (if not already); returns its controls."""
        if self._interceptors is None or self._guard is None:
            raise RuntimeError("activate() works inside the mock's with-block")
        mock = self[vendor_id]
        if vendor_id not in self._active:
            for host in mock.spec.hosts:
                for interceptor in self._interceptors:
                    interceptor.route(host, mock.app)
                self._guard.block(host)
            self._active.add(vendor_id)
        return mock

    def __getitem__(self, vendor_id: str) -> VendorMock:
        if vendor_id not in self.emulator.vendors:
            raise KeyError(f"unknown vendor {vendor_id!r}; known: {sorted(self.emulator.vendors)}")
        return VendorMock(self.emulator, vendor_id)

    def __getattr__(self, name: str) -> VendorMock:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError as error:
            raise AttributeError(str(error)) from None

    def reset(self) -> None:
        """Every vendor back to its fixtures, keys and no faults; the journal emptied."""
        self.emulator.reset()

    @property
    def calls(self) -> list[JournalEntry]:
        """Every request any vendor received, oldest first."""
        return self.emulator.journal.entries()


def mock_vendors(
    *vendors: str,
    other_hosts: OtherHosts = "refuse",
    config: EmulatorConfig | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    options_file: str | os.PathLike[str] | None = None,
) -> EmulatorMock:
    """The emulator behind the vendors' real hosts: ``with mock_vendors() as v:`` or ``@mock_vendors()``.

    Name vendors to mock only those (``mock_vendors("butter")``); other hosts are refused unless
    ``other_hosts="allow"``. ``options`` (``{"butter": {"sort_direction": "asc"}}``) and ``options_file``
    (what ``contracts calibrate`` writes) change assumptions; ``options`` wins over the file.
    """
    if options is not None or options_file is not None:
        base = config or EmulatorConfig()
        from_file = read_options_file(Path(options_file)) if options_file is not None else {}
        config = dataclasses.replace(base, options=merged(base.options, from_file, options))
    return EmulatorMock(vendors or None, other_hosts=other_hosts, config=config)
