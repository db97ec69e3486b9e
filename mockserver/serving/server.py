"""The HTTP server behind ``serve``: uvicorn's httptools protocol, with the limits a gateway would keep.

uvicorn itself bounds neither the request head (an 8 MB header is read whole) nor the time a client may
take to send it, and it never closes a connection that sends nothing. :class:`GuardedProtocol` adds, per
connection:

- a request line of at most ``max_request_line`` bytes (else 414), at most ``max_headers`` headers of
  ``max_header_bytes`` in all (else 431), answered in the vendor's own error shape and then closed;
- ``head_timeout`` seconds to send a request line and headers, from the connection or the first byte of
  a request, and ``body_timeout`` seconds more for its body; an idle or slow connection is closed then
  (slowloris);
- a cap of ``max_connections``: at the cap, a new connection closes the connection that has waited
  longest for its request head (an attacker's slow connections go first; a normal client sends its head
  at once), and only if every connection is busy with a request is the new one answered 503.

:class:`HostGuard` refuses a ``Host`` the server does not serve (421) and a foreign ``Origin`` (403).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from http import HTTPStatus
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from mockserver.engine.emulator import Emulator
from mockserver.engine.routing import HostPolicy
from mockserver.limits import Limits

REFUSALS = {
    "uri_too_long": (414, "the request line is too long"),
    "header_too_large": (431, "the request headers are too large"),
    "misdirected": (421, "this server does not serve that Host"),
    "cross_origin": (403, "requests from another site's pages are refused"),
}
Rendered = tuple[int, list[tuple[bytes, bytes]], bytes]


class Refusals:
    """Renders the refusals of the server in the shape of the vendor a path belongs to."""

    def __init__(self, emulator: Emulator) -> None:
        self.routes = emulator.routes

    def render(self, path: str, kind: str) -> Rendered:
        """Status, headers and body of a ``kind`` refusal of a request to ``path``."""
        status, sentence = REFUSALS[kind]
        mounted = self.routes.for_path(path)
        app = None if mounted is None else mounted.owner
        if app is None or kind not in app.spec.errors:
            body = orjson.dumps({"error": kind, "message": sentence})
            return status, [(b"content-type", b"application/json")], body
        reply = app.errors.render(kind, message=sentence, method="GET", path=path, route=path.lstrip("/"))
        return reply.status, app.raw_headers(reply), reply.body


def http_response(rendered: Rendered) -> bytes:
    """A complete HTTP/1.1 response that closes the connection."""
    status, headers, body = rendered
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n".encode()]
    lines += [name + b": " + value + b"\r\n" for name, value in headers if name != b"content-length"]
    lines.append(b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n")
    return b"".join(lines) + body


UNAVAILABLE = http_response(
    (
        503,
        [(b"content-type", b"application/json")],
        b'{"error":"too_many_connections","message":"the server is at its connection cap"}',
    )
)


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with head limits, a head-read timeout and a connection cap."""

    limits: Limits
    refusals: Refusals

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._refused = False
        self._line = 0
        self._count = 0
        self._bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self.waiting_since: float | None = None  # set while the connection waits for a request head

    @classmethod
    def configured(cls, limits: Limits, refusals: Refusals) -> type[GuardedProtocol]:
        """A protocol class bound to these limits (uvicorn creates one instance per connection)."""
        return type("ConfiguredGuardedProtocol", (cls,), {"limits": limits, "refusals": refusals})

    # ------------------------------------------------------------------ connections

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections and not self._make_room():
            transport.write(UNAVAILABLE)
            transport.close()
            return
        self._wait_for_head()

    def _make_room(self) -> bool:
        """Close the connection that has waited longest for a request head; False if there is none."""
        waiting = [
            other
            for other in self.connections
            if isinstance(other, GuardedProtocol) and other is not self and other.waiting_since is not None
        ]
        if not waiting:
            return False
        oldest = min(waiting, key=lambda other: other.waiting_since or 0.0)
        oldest.transport.close()
        self.connections.discard(oldest)
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        self.waiting_since = None
        super().connection_lost(exc)

    def _wait_for_head(self) -> None:
        self.waiting_since = time.monotonic()
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.limits.head_timeout, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.logger.info("closed a connection that sent no complete request in time")
            self.transport.close()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self.waiting_since = time.monotonic()  # idle: uvicorn's keep-alive timeout closes it

    # ------------------------------------------------------------------ the request head

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._refused = False
        self._line = self._count = self._bytes = 0
        self._wait_for_head()

    def on_url(self, url: bytes) -> None:
        if self._refused:
            return
        self._line += len(url)
        if self._line > self.limits.max_request_line:
            self.url += url[:256]  # enough to know the vendor whose error shape to answer in
            self._refuse("uri_too_long")
            return
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._refused:
            return
        self._count += 1
        self._bytes += len(name) + len(value)
        if self._count > self.limits.max_headers or self._bytes > self.limits.max_header_bytes:
            self._refuse("header_too_large")
            return
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._stop_head_timer()
        if self._refused:
            self.waiting_since = None
            return
        # until its body is in, a request still waits on its client: it may be cut (timeout, cap)
        self.waiting_since = time.monotonic()
        self._head_timer = self.loop.call_later(self.limits.body_timeout, self._head_timed_out)
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._stop_head_timer()
        self.waiting_since = None
        if not self._refused:
            super().on_message_complete()

    def _refuse(self, kind: str) -> None:
        """Answer ``kind`` in the vendor's shape (unless a response is under way) and close."""
        self._refused = True
        self._stop_head_timer()
        busy = self.cycle is not None and not self.cycle.response_complete
        if not busy and not self.transport.is_closing():
            path = self.url.split(b"?", 1)[0][:200].decode("latin-1")
            self.transport.write(http_response(self.refusals.render(path or "/", kind)))
        self.transport.close()


class HostGuard:
    """ASGI middleware: a ``Host`` the server does not serve gets 421, a foreign ``Origin`` 403."""

    def __init__(self, app: ASGIApp, policy: HostPolicy, refusals: Refusals) -> None:
        self.app = app
        self.policy = policy
        self.refusals = refusals

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = origin = None
            for name, value in scope["headers"]:
                if name == b"host" and host is None:
                    host = value.decode("latin-1")
                elif name == b"origin" and origin is None:
                    origin = value.decode("latin-1")
            kind = None
            if not self.policy.allows(host):
                kind = "misdirected"
            elif not self.policy.allows_origin(origin):
                kind = "cross_origin"
            if kind is not None:
                await _send(send, self.refusals.render(scope["path"], kind))
                return
        await self.app(scope, receive, send)


async def _send(send: Send, rendered: Rendered) -> None:
    status, headers, body = rendered
    headers = [(name, value) for name, value in headers if name != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def fitting(limits: Limits) -> Limits:
    """``limits`` with a connection cap the process's descriptor limit can hold (64 kept for the rest)."""
    try:
        import resource  # noqa: PLC0415 - POSIX only

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        return limits
    if soft == resource.RLIM_INFINITY or limits.max_connections <= soft - 64:
        return limits
    return replace(limits, max_connections=max(16, soft - 64))


def guarded(
    app: ASGIApp, emulator: Emulator, bound: str, allowed_hosts: list[str]
) -> tuple[ASGIApp, Callable[[Limits], type[GuardedProtocol]]]:
    """The app behind the Host/Origin guard, and the protocol class factory, for ``serve``."""
    refusals = Refusals(emulator)
    vendor_hosts = [host for spec in emulator.vendors.values() for host in spec.hosts]  # wildcards too
    policy = HostPolicy.for_server(bound, allowed_hosts, vendor_hosts)
    return HostGuard(app, policy, refusals), lambda limits: GuardedProtocol.configured(limits, refusals)
