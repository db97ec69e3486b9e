"""Interception of a client library from the moment the process imports it, not before.

Intercepting a client means importing it and its mocking library (aiohttp and aioresponses cost about
0.2 s): a process that never imports aiohttp should not pay that for every mock it starts. A
:class:`DeferredInterceptor` stands for one client's interceptor: when it starts and the client is
imported already, it builds (once) and starts the real one at once; otherwise it waits, and an import
hook (:class:`ImportWatch`, on ``sys.meta_path`` only while some interceptor waits) starts the real one
as soon as the client's import has finished, with the hosts routed so far. A test that imports aiohttp
inside the mock's lifetime is intercepted as if aiohttp had been imported before.

The hook follows the client module and its mocking library (``aiohttp`` and ``aioresponses``...): the
interceptor starts when the last of them that is being imported has finished, so that importing
``aioresponses`` first (it imports aiohttp) starts nothing half-imported.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

from mockserver.engine.vendor_app import VendorApp
from mockserver.intercept.base import Interceptor, OtherHosts

_LOCK = threading.RLock()
_WAITING: list[DeferredInterceptor] = []


class DeferredInterceptor:
    """One client's interceptor, built and started when the client is imported (now or later)."""

    def __init__(
        self,
        client: str,
        modules: Sequence[str],
        build: Callable[[OtherHosts], Interceptor],
        other_hosts: OtherHosts,
    ) -> None:
        self.client = client
        self.modules = tuple(modules)
        """The client's top-level module first, then its mocking library's (if it has one)."""
        self._build = build
        self._other_hosts = other_hosts
        self._real: Interceptor | None = None
        self._lock = threading.RLock()
        self._started = False  # between start() and stop()
        self._live = False  # the real interceptor is started
        self._routes: list[tuple[str, VendorApp]] = []

    @property
    def built(self) -> bool:
        """Whether the real interceptor exists (the client was imported while this one was started)."""
        return self._real is not None

    def start(self) -> None:
        """Intercept the client now if it is imported, else from the end of its import."""
        with self._lock:
            self._started = True
            self._routes = []
            if ready(self.modules):
                self._go_live()
                return
        with _LOCK:
            _WAITING.append(self)
            _WATCH.install()
        if ready(self.modules):  # imported meanwhile, by another thread, before the hook was in place
            self.imported()

    def route(self, host: str, vendor_app: VendorApp) -> None:
        """Answer ``host`` with ``vendor_app`` (now, or from the client's import on)."""
        with self._lock:
            self._routes.append((host, vendor_app))
            if self._live and self._real is not None:
                self._real.route(host, vendor_app)

    def stop(self) -> None:
        """Stop intercepting (and waiting for the import)."""
        _forget(self)
        with self._lock:
            if self._live and self._real is not None:
                self._real.stop()
            self._live = self._started = False
            self._routes = []

    def imported(self) -> None:
        """The import hook's call: the client was imported while this interceptor waited."""
        _forget(self)
        with self._lock:
            if self._started and not self._live:
                self._go_live()

    def _go_live(self) -> None:
        if self._real is None:
            self._real = self._build(self._other_hosts)
        self._real.start()
        self._live = True
        for host, vendor_app in self._routes:
            self._real.route(host, vendor_app)


def ready(modules: Sequence[str], finished: str | None = None) -> bool:
    """Whether the client (``modules[0]``) is imported and none of ``modules`` is still being imported
    (``finished`` has just run to its end, though the import system has not marked it done yet)."""
    if modules[0] not in sys.modules:
        return False
    for name in modules:
        spec = getattr(sys.modules.get(name), "__spec__", None)
        if name != finished and getattr(spec, "_initializing", False):
            return False
    return True


def _forget(interceptor: DeferredInterceptor) -> None:
    with _LOCK:
        if interceptor in _WAITING:
            _WAITING.remove(interceptor)
        if not _WAITING:
            _WATCH.uninstall()


def _finished(name: str) -> None:
    """``name`` has been imported: start the interceptors that waited for it (outside the lock: starting
    one imports its mocking library, which comes back through the hook)."""
    with _LOCK:
        due = [waiting for waiting in _WAITING if name in waiting.modules and ready(waiting.modules, name)]
    for interceptor in due:
        interceptor.imported()


def _watched(name: str) -> bool:
    with _LOCK:
        return any(name in waiting.modules for waiting in _WAITING)


class ImportWatch(MetaPathFinder):
    """Finds nothing itself: hands back the next finder's spec of a watched module, with a loader that
    tells this module when the module has run."""

    def install(self) -> None:
        """First on ``sys.meta_path`` (called with the lock held)."""
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def uninstall(self) -> None:
        """Off ``sys.meta_path`` (called with the lock held)."""
        if self in sys.meta_path:
            sys.meta_path.remove(self)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        """The spec the other finders give a watched top-level module, its loader wrapped."""
        if path is not None or not _watched(fullname):
            return None
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec: ModuleSpec | None = find(fullname, path, target)
            if spec is None:
                continue
            if spec.loader is None or not hasattr(spec.loader, "exec_module"):
                return None  # a namespace package or an old-style loader: imported as usual, untold
            spec.loader = NotifyingLoader(spec.loader, fullname)
            return spec
        return None


class NotifyingLoader(Loader):
    """The module's own loader, and a call to :func:`_finished` once the module has run."""

    def __init__(self, loader: Loader, name: str) -> None:
        self.loader = loader
        self.name = name

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        """What the module's own loader creates."""
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        """Run the module with its own loader in place (``__loader__``, ``__spec__.loader``), then tell."""
        if getattr(module, "__loader__", None) is self:
            module.__loader__ = self.loader
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.loader is self:
            spec.loader = self.loader
        self.loader.exec_module(module)
        _finished(self.name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)


_WATCH = ImportWatch()
