"""aiohttp's ``ClientSession``, intercepted with ``aioresponses``.

Needs the ``[aiohttp]`` extra. Session headers, ``base_url`` and ``params`` are applied as aiohttp would.
aioresponses normalises each URL before matching, so the engine receives the query parameters sorted by
name (their values unchanged).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable, Iterable
from types import SimpleNamespace
from typing import Any

import aiohttp
import orjson
from aioresponses import CallbackResult, aioresponses
from aioresponses.core import RequestMatch
from yarl import URL

from mockserver.engine.routing import url_pattern
from mockserver.engine.vendor_app import VendorApp
from mockserver.intercept.base import OtherHosts
from mockserver.intercept.exchange import HTTP_METHODS, TIMEOUT_MESSAGE, answer, body_bytes, http_scope

_NEEDS_STREAM_WRITER = "stream_writer" in inspect.signature(aiohttp.ClientResponse.__init__).parameters


class EmulatedResponse(aiohttp.ClientResponse):
    """A response whose request was sent already: aiohttp 3.14 wants the writer that sent it.

    aioresponses builds responses without one; this supplies a finished writer (nothing was uploaded).
    """

    def __init__(self, method: str, url: URL, **kwargs: Any) -> None:
        if _NEEDS_STREAM_WRITER:
            kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


class SessionPatch:
    """``ClientSession._request`` replaced by a plain function that hands each call to aioresponses.

    What aioresponses' own patcher (``unittest.mock.patch(..., autospec=True)``) does, without building
    an autospec on every start (about half of a test's fixture set-up). Like that patcher it keeps the
    original as ``temp_original`` (aioresponses passes other hosts through with it) and puts it back on
    ``stop``.
    """

    def __init__(self, handler: Callable[..., Awaitable[Any]]) -> None:
        self.handler = handler
        self.temp_original: Any = None
        self.return_value: Any = None  # aioresponses sets it after start; nothing reads it

    def start(self) -> None:
        """Route every session's requests to the handler (the session first, as with a method)."""
        self.temp_original = vars(aiohttp.ClientSession)["_request"]
        handler = self.handler

        @functools.wraps(self.temp_original)
        async def _request(session: aiohttp.ClientSession, *args: Any, **kwargs: Any) -> Any:
            return await handler(session, *args, **kwargs)

        aiohttp.ClientSession._request = _request  # type: ignore[method-assign, assignment]

    def stop(self) -> None:
        """Put the original back."""
        if self.temp_original is not None:
            aiohttp.ClientSession._request = self.temp_original  # type: ignore[method-assign]
            self.temp_original = None


class AiohttpInterceptor:
    """Routes ``aiohttp.ClientSession`` requests for vendor hosts to the engine."""

    client = "aiohttp"

    def __init__(self, other_hosts: OtherHosts) -> None:
        self._mock = aioresponses(passthrough_unmatched=other_hosts == "allow")
        self._mock.patcher = SessionPatch(self._mock._request_mock)  # type: ignore[assignment]
        # One matcher per method, built once per host and vendor (they repeat: nothing in them is used
        # up) and registered again on each start.
        self._routes: dict[tuple[str, VendorApp], list[RequestMatch]] = {}

    def start(self) -> None:
        """Patch ``ClientSession._request``; unmatched URLs raise ``ClientConnectionError`` (or pass)."""
        self._mock.start()

    def route(self, host: str, vendor_app: VendorApp) -> None:
        """Answer every method on ``host`` with the vendor's engine, as often as it is asked."""
        routes = self._routes.get((host, vendor_app))
        if routes is None:
            pattern = url_pattern(host)
            routes = [
                RequestMatch(pattern, method=method, callback=_callback(vendor_app, method), repeat=True)
                for method in HTTP_METHODS
            ]
            self._routes[(host, vendor_app)] = routes
        for route in routes:  # what aioresponses.add does with the matcher it builds
            self._mock._matches[f"{host} {route.method}"] = route

    def stop(self) -> None:
        """Restore aiohttp (and forget the requests aioresponses recorded)."""
        self._mock.stop()
        self._mock.requests.clear()


def _callback(vendor_app: VendorApp, method: str) -> Any:
    """aioresponses does not tell a callback the method: one callback per method does."""

    async def callback(url: URL, **kwargs: Any) -> CallbackResult:
        return await _respond(vendor_app, method, url, kwargs)

    return callback


def _header_pairs(headers: Any, auth: Any) -> list[tuple[str, str]]:
    pairs: Iterable[Any] = headers.items() if hasattr(headers, "items") else headers or ()
    result = [(str(name), str(value)) for name, value in pairs]
    if isinstance(auth, aiohttp.BasicAuth):
        result.append(("authorization", auth.encode()))
    return result


def _read_timeout(timeout: Any) -> float | None:
    if isinstance(timeout, aiohttp.ClientTimeout):
        limits = [value for value in (timeout.sock_read, timeout.total) if value is not None]
        return min(limits) if limits else None
    return float(timeout) if isinstance(timeout, int | float) else None


async def _respond(vendor_app: VendorApp, method: str, url: URL, kwargs: dict[str, Any]) -> CallbackResult:
    scope = http_scope(
        method,
        scheme=url.scheme,
        host=url.host or "",
        port=url.port,
        raw_path=url.raw_path.encode("latin-1", "replace"),
        query=url.raw_query_string.encode("latin-1", "replace"),
        headers=_header_pairs(kwargs.get("headers"), kwargs.get("auth")),
    )
    sent = kwargs.get("json")
    body = orjson.dumps(sent) if sent is not None else body_bytes(kwargs.get("data"))
    result = answer(vendor_app, scope, _read_timeout(kwargs.get("timeout")), body)
    if result.wait:
        await asyncio.sleep(result.wait)
    if result.timed_out:
        raise aiohttp.ServerTimeoutError(TIMEOUT_MESSAGE)
    if result.cut:  # raised at the request, where aiohttp raises it when reading the body
        raise aiohttp.ClientPayloadError(result.cut_message)
    headers = [(name, value) for name, value in result.headers if name != "content-length"]
    return CallbackResult(
        status=result.status,
        body=result.body,
        headers=dict(headers),
        content_type=result.content_type or "application/json",
        response_class=EmulatedResponse,
    )
