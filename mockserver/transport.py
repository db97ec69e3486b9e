"""In-process transport: an ``httpx`` client talks to the emulator with no socket and no server.

Requests for a vendor are answered by calling the vendor's engine directly (it is synchronous), so
the same transport serves ``httpx.Client`` and ``httpx.AsyncClient`` at the cost of a function
call. Anything else (``/__mock__``) goes through the full Starlette app: directly for async
clients, and on a private event loop in a helper thread for sync ones.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal
from starlette.applications import Starlette

from mockserver.app import Emulator
from mockserver.engine import VendorApp


def _scope(request: httpx.Request, root_path: str) -> dict[str, Any]:
    url = request.url
    return {
        "type": "http",
        "http_version": "1.1",
        "method": request.method,
        "scheme": url.scheme,
        "path": url.path,
        "raw_path": url.raw_path.split(b"?", 1)[0],
        "root_path": root_path,
        "query_string": url.query,
        "headers": [(name.lower(), value) for name, value in request.headers.raw],
        "server": (url.host, url.port),
        "client": ("127.0.0.1", 0),
    }


class EmulatorTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Routes requests to an emulator app in-process; use with ``httpx.Client`` or ``httpx.AsyncClient``."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        emulator: Emulator = app.state.emulator
        self.mounts = {f"/{vendor_id}": vendor_app for vendor_id, vendor_app in emulator.apps.items()}
        root = emulator.config.root_vendor
        self.root_app = emulator.apps[root] if root else None
        self._asgi = httpx.ASGITransport(app=app)
        self._portal: BlockingPortal | None = None
        self._portal_context: AbstractContextManager[BlockingPortal] | None = None

    def vendor_for(self, path: str) -> tuple[VendorApp, str] | None:
        """The vendor app a path belongs to and its mount prefix, or None for everything else."""
        prefix = "/" + path.split("/", 2)[1] if path.startswith("/") else ""
        vendor_app = self.mounts.get(prefix)
        if vendor_app is not None:
            return vendor_app, prefix
        if self.root_app is not None and not path.startswith("/__mock__"):
            return self.root_app, ""
        return None

    def _direct(self, request: httpx.Request) -> httpx.Response | None:
        target = self.vendor_for(request.url.path)
        if target is None:
            return None
        vendor_app, prefix = target
        scope = _scope(request, prefix)
        reply = vendor_app.reply(scope)
        body = b"" if request.method == "HEAD" else reply.body
        return httpx.Response(
            reply.status, headers=vendor_app.raw_headers(reply), content=body, request=request
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer a synchronous client's request."""
        direct = self._direct(request)
        if direct is not None:
            return direct
        request.read()
        portal = self._blocking_portal()
        response: httpx.Response = portal.call(self._through_app, request)
        return response

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

    def _blocking_portal(self) -> BlockingPortal:
        if self._portal is None:
            self._portal_context = start_blocking_portal()
            self._portal = self._portal_context.__enter__()
        return self._portal

    def close(self) -> None:
        """Stop the helper thread, if a sync request ever needed it."""
        if self._portal_context is not None:
            self._portal_context.__exit__(None, None, None)
            self._portal, self._portal_context = None, None

    async def aclose(self) -> None:
        """Nothing to release for async clients."""
