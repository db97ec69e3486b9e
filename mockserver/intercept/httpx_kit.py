"""httpx (``Client`` and ``AsyncClient``), intercepted with respx."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import httpx
import respx

from mockserver.engine.routing import host_pattern
from mockserver.engine.vendor_app import VendorApp
from mockserver.intercept.base import OtherHosts
from mockserver.intercept.exchange import refusal
from mockserver.intercept.transport import respond

OTHER_HOSTS_ROUTE = "other-hosts"


class HttpxInterceptor:
    """Routes httpx requests for vendor hosts to the engine through a respx router."""

    client = "httpx"

    def __init__(self, other_hosts: OtherHosts) -> None:
        self.other_hosts = other_hosts
        self._router = respx.MockRouter(assert_all_called=False, assert_all_mocked=False)
        # Routes are built once per host and vendor and added again on each start: a respx Route costs
        # more to build than the request it answers. They hold nothing from one start to the next (their
        # calls are reset on stop).
        self._other_hosts = respx.Route()
        if other_hosts == "allow":
            self._other_hosts.pass_through()
        else:
            self._other_hosts.side_effect = _refuse
        self._routes: dict[tuple[str, VendorApp], respx.Route] = {}
        self._added: list[respx.Route] = []

    def start(self) -> None:
        """Patch httpx's transports; other hosts get a connection error (or pass through)."""
        self._router.__enter__()
        self._router.routes.add(self._other_hosts, name=OTHER_HOSTS_ROUTE)
        self._added = [self._other_hosts]

    def route(self, host: str, vendor_app: VendorApp) -> None:
        """Answer ``host`` with the vendor's engine, ahead of the route for other hosts."""
        route = self._routes.get((host, vendor_app))
        if route is None:
            route = respx.Route(host__regex=host_pattern(host))
            route.side_effect = _responder(vendor_app)
            self._routes[(host, vendor_app)] = route
        last = self._router.routes.pop(OTHER_HOSTS_ROUTE)  # type: ignore[no-untyped-call]
        self._router.routes.add(route)
        self._router.routes.add(last, name=OTHER_HOSTS_ROUTE)
        self._added.append(route)

    def stop(self) -> None:
        """Restore httpx."""
        for route in self._added:
            route.reset()  # the calls respx recorded on it
        self._added = []
        self._router.__exit__(None, None, None)


def _responder(vendor_app: VendorApp) -> Callable[[httpx.Request], httpx.Response]:
    def responder(request: httpx.Request) -> httpx.Response:
        return respond(vendor_app, request)

    # respx asks each side effect's signature (inspect.getfullargspec) on every request, to see whether
    # it takes ``route``: the signature given here is read as it is, not worked out from the code again.
    responder.__signature__ = SIGNATURE  # type: ignore[attr-defined]
    return responder


def _signature(request: httpx.Request) -> httpx.Response:
    raise NotImplementedError  # pragma: no cover - only its signature is used


SIGNATURE = inspect.signature(_signature)


def _refuse(request: httpx.Request) -> httpx.Response:
    """Another host, while other hosts are refused: a connection error, as with no network at all."""
    raise httpx.ConnectError(refusal(request.url.host), request=request)
