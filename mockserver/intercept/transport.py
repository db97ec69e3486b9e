"""In-process transport: an ``httpx`` client talks to the emulator with no socket and no server.

Requests for a vendor are answered by calling the vendor's engine directly (it is synchronous), so
the same transport serves ``httpx.Client`` and ``httpx.AsyncClient`` at the cost of a function
call. Anything else (``/__mock__``) goes through the full Starlette app: directly for async
clients, and on a private event loop in a helper thread for sync ones.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import httpx

from mockserver.engine.emulator import Emulator
from mockserver.engine.vendor_app import VendorApp
from mockserver.intercept.exchange import TIMEOUT_MESSAGE, answer, http_scope

if TYPE_CHECKING:  # not imported for vendor requests, which never reach the control app
    from starlette.applications import Starlette


def _scope(request: httpx.Request, root_path: str) -> dict[str, Any]:
    url = request.url
    raw_path = url.raw_path.split(b"?", 1)[0]
    return http_scope(
        request.method,
        scheme=url.scheme,
        host=url.host,
        port=url.port,
        raw_path=raw_path,
        query=url.query,
        headers=request.headers.raw,
        root_path=root_path,
    )


class DelayedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that arrives after ``delay`` seconds: slept by sync readers, awaited by async ones."""

    def __init__(self, body: bytes, delay: float) -> None:
        self.body = body
        self.delay = delay

    def __iter__(self) -> Iterator[bytes]:
        time.sleep(self.delay)
        yield self.body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        await asyncio.sleep(self.delay)
        yield self.body


class TimedOutStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body slower than the client's read timeout: after the timeout, httpx.ReadTimeout, as on a network."""

    def __init__(self, timeout: float, request: httpx.Request) -> None:
        self.timeout = timeout
        self.request = request

    def __iter__(self) -> Iterator[bytes]:
        time.sleep(self.timeout)
        raise httpx.ReadTimeout(TIMEOUT_MESSAGE, request=self.request)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        await asyncio.sleep(self.timeout)
        if self.timeout >= 0:  # always: the yield below only makes this an async generator
            raise httpx.ReadTimeout(TIMEOUT_MESSAGE, request=self.request)
        yield b""  # pragma: no cover


class CutStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that stops part-way (a drift): the part, then httpx.RemoteProtocolError, as on a network."""

    def __init__(self, part: bytes, message: str, request: httpx.Request) -> None:
        self.part = part
        self.message = message
        self.request = request

    def __iter__(self) -> Iterator[bytes]:
        yield self.part
        raise httpx.RemoteProtocolError(self.message, request=self.request)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.part
        raise httpx.RemoteProtocolError(self.message, request=self.request)


def respond(vendor_app: VendorApp, request: httpx.Request, prefix: str = "") -> httpx.Response:
    """Answer ``request`` with ``vendor_app``'s engine, directly (the vendor is mounted at ``prefix``)."""
    timeout = request.extensions.get("timeout", {}).get("read")
    body = request.read() if request.method not in ("GET", "HEAD") else b""
    result = answer(vendor_app, _scope(request, prefix), timeout, body)
    if result.cut:
        stream: DelayedStream | TimedOutStream | CutStream | httpx.ByteStream = CutStream(
            result.body, result.cut_message, request
        )
    elif result.timed_out:
        stream = TimedOutStream(result.wait, request)
    elif result.wait:
        stream = DelayedStream(result.body, result.wait)
    elif result.status != 204 or not result.body:
        # The body as a stream, as a transport returns it: ``content=`` would read it through httpx's
        # decoders here, before the client reads it again (the engine's headers have its Content-Length).
        stream = httpx.ByteStream(result.body)
    else:  # a body on a 204 (a drift's): no Content-Length from the engine, httpx adds it
        return httpx.Response(result.status, headers=result.raw_headers, content=result.body, request=request)
    return httpx.Response(result.status, headers=result.raw_headers, stream=stream, request=request)


class EmulatorTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Routes requests to an emulator app in-process; use with ``httpx.Client`` or ``httpx.AsyncClient``."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        emulator: Emulator = app.state.emulator
        self.routes = emulator.routes
        self._asgi = httpx.ASGITransport(app=app)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _direct(self, request: httpx.Request) -> httpx.Response | None:
        mounted = self.routes.for_path(request.url.path)
        if mounted is None:
            return None
        return respond(mounted.owner, request, mounted.prefix)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer a synchronous client's request."""
        direct = self._direct(request)
        if direct is not None:
            return direct
        request.read()
        return asyncio.run_coroutine_threadsafe(self._through_app(request), self._background_loop()).result()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer an asynchronous client's request."""
        direct = self._direct(request)
        if direct is not None:
            return direct
        await request.aread()
        return await self._through_app(request)

    async def _through_app(self, request: httpx.Request) -> httpx.Response:
        response = await self._asgi.handle_async_request(request)
        content = await response.aread()
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, request=request
        )

    def _background_loop(self) -> asyncio.AbstractEventLoop:
        """An event loop in a daemon thread: it never keeps the interpreter alive, closed or not."""
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=self._loop.run_forever, name="emulator-transport", daemon=True
                )
                self._thread.start()
            return self._loop

    def close(self) -> None:
        """Stop and close the helper loop, if a sync request ever needed it."""
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()

    async def aclose(self) -> None:
        """Nothing to release for async clients."""
