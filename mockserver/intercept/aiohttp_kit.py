"""aiohttp's ``ClientSession``, intercepted with ``aioresponses``.

Needs the ``[aiohttp]`` extra. Session headers, ``base_url`` and ``params`` are applied as aiohttp would.
aioresponses normalises each URL before matching, so the engine receives the query parameters sorted by
name (their values unchanged).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

import aiohttp
import orjson
from aioresponses import CallbackResult, aioresponses
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


class AiohttpInterceptor:
    """Routes ``aiohttp.ClientSession`` requests for vendor hosts to the engine."""

    client = "aiohttp"

    def __init__(self, other_hosts: OtherHosts) -> None:
        self._mock = aioresponses(passthrough_unmatched=other_hosts == "allow")

    def start(self) -> None:
        """Patch ``ClientSession._request``; unmatched URLs raise ``ClientConnectionError`` (or pass)."""
        self._mock.start()

    def route(self, host: str, vendor_app: VendorApp) -> None:
        """Answer every method on ``host`` with the vendor's engine, as often as it is asked."""

        pattern = url_pattern(host)
        for method in HTTP_METHODS:
            self._mock.add(pattern, method=method, callback=_callback(vendor_app, method), repeat=True)

    def stop(self) -> None:
        """Restore aiohttp."""
        self._mock.stop()


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
    headers = [(name, value) for name, value in result.headers if name != "content-length"]
    return CallbackResult(
        status=result.status,
        body=result.body,
        headers=dict(headers),
        content_type=result.content_type or "application/json",
        response_class=EmulatedResponse,
    )
