"""httpx (``Client`` and ``AsyncClient``), intercepted with respx."""

from __future__ import annotations

import httpx
import respx

from mockserver.engine.routing import host_pattern
from mockserver.engine.vendor_app import VendorApp
from mockserver.intercept.base import OtherHosts
from mockserver.intercept.transport import respond

OTHER_HOSTS_ROUTE = "other-hosts"


class HttpxInterceptor:
    """Routes httpx requests for vendor hosts to the engine through a respx router."""

    client = "httpx"

    def __init__(self, other_hosts: OtherHosts) -> None:
        self.other_hosts = other_hosts
        self._router = respx.MockRouter(assert_all_called=False, assert_all_mocked=False)

    def start(self) -> None:
        """Patch httpx's transports; other hosts get a connection error (or pass through)."""
        self._router.__enter__()
        other_hosts = self._router.route(name=OTHER_HOSTS_ROUTE)
        if self.other_hosts == "allow":
            other_hosts.pass_through()
        else:
            other_hosts.side_effect = _refuse

    def route(self, host: str, vendor_app: VendorApp) -> None:
        """Answer ``host`` with the vendor's engine, ahead of the route for other hosts."""
        route = self._router.route(host__regex=host_pattern(host))
        route.side_effect = lambda request: _respond(vendor_app, request)
        last = self._router.routes.pop(OTHER_HOSTS_ROUTE)  # type: ignore[no-untyped-call]
        self._router.routes.add(last, name=OTHER_HOSTS_ROUTE)

    def stop(self) -> None:
        """Restore httpx."""
        self._router.__exit__(None, None, None)


def _respond(vendor_app: VendorApp, request: httpx.Request) -> httpx.Response:
    return respond(vendor_app, request)


def _refuse(request: httpx.Request) -> httpx.Response:
    """Another host, while other hosts are refused: a connection error, as with no network at all."""
    raise httpx.ConnectError(
        f"vendor-emulator refused {request.url.host}: only the emulated vendors' hosts are answered "
        "(mock_vendors(other_hosts='allow') or the ini option vendor_emulator_other_hosts = allow lets "
        "other hosts through)",
        request=request,
    )
