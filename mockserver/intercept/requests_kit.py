"""``requests`` (sessions, custom adapters, streaming), intercepted with ``responses``.

Needs the ``[requests]`` extra. ``responses`` patches ``HTTPAdapter.send``, so every ``Session`` and
every adapter derived from ``HTTPAdapter`` is answered; ``stream=True`` bodies are streamed from memory.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import requests
import responses

from mockserver.engine.routing import url_pattern
from mockserver.engine.vendor_app import VendorApp
from mockserver.intercept.base import OtherHosts
from mockserver.intercept.exchange import (
    HTTP_METHODS,
    TIMEOUT_MESSAGE,
    answer,
    body_bytes,
    read_timeout,
    scope_for_url,
)

EVERYTHING = re.compile(".*")


class RequestsInterceptor:
    """Routes ``requests`` calls for vendor hosts to the engine through a ``responses.RequestsMock``."""

    client = "requests"

    def __init__(self, other_hosts: OtherHosts) -> None:
        self._mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        if other_hosts == "allow":
            self._mock.add_passthru(EVERYTHING)  # consulted only when no vendor route matches
        # One callback per method, built once per host and vendor and registered again on each start;
        # their calls are cleared on stop, so nothing is kept from one start to the next.
        self._routes: dict[tuple[str, VendorApp], list[responses.CallbackResponse]] = {}
        self._added: list[responses.CallbackResponse] = []

    def start(self) -> None:
        """Patch ``HTTPAdapter.send``; unmatched URLs raise ``requests.ConnectionError`` (or pass through)."""
        self._mock.start()

    def route(self, host: str, vendor_app: VendorApp) -> None:
        """Answer every method on ``host`` with the vendor's engine."""
        routes = self._routes.get((host, vendor_app))
        if routes is None:
            pattern = url_pattern(host)
            callback = _callback(vendor_app)
            routes = [
                responses.CallbackResponse(method, pattern, callback=callback, content_type=None)
                for method in HTTP_METHODS
            ]
            self._routes[(host, vendor_app)] = routes
        for route in routes:
            self._mock.add(route)
        self._added.extend(routes)

    def stop(self) -> None:
        """Restore ``requests``."""
        self._mock.stop()
        self._mock.reset()
        for route in self._added:
            route.calls.reset()
        self._added = []


def _callback(vendor_app: VendorApp) -> Callable[[requests.PreparedRequest], Any]:
    return lambda request: _respond(vendor_app, request)


def _respond(vendor_app: VendorApp, request: requests.PreparedRequest) -> Any:
    """``responses``' callback result: (status, headers, body), or the exception a slow server causes."""
    scope = scope_for_url(request.method or "GET", request.url or "", request.headers.items())
    timeout = read_timeout(getattr(request, "req_kwargs", {}).get("timeout"))
    result = answer(vendor_app, scope, timeout, body_bytes(request.body))
    if result.wait:
        time.sleep(result.wait)
    if result.timed_out:
        return requests.exceptions.ReadTimeout(TIMEOUT_MESSAGE, request=request)
    if result.cut:  # what requests raises when urllib3 reads fewer bytes than Content-Length promised
        return requests.exceptions.ChunkedEncodingError(result.cut_message, request=request)
    return result.status, result.headers, result.body
