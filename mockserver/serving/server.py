"""The HTTP server behind ``serve``: uvicorn's httptools protocol, with the limits a gateway would keep.

uvicorn itself bounds neither the request head (an 8 MB header is read whole) nor the time a client may
take to send it, and it never closes a connection that sends nothing. :class:`GuardedProtocol` adds, per
connection:

- a request line of at most ``max_request_line`` bytes (else 414), at most ``max_headers`` headers of
  ``max_header_bytes`` in all (else 431), answered in the vendor's own error shape and then closed;
- ``head_timeout`` seconds to send a request line and headers, from the connection or the first byte of
  a request, and ``body_timeout`` seconds more for its body; an idle or slow connection is closed then
  (slowloris). No timer per request: each connection keeps its deadline, and one :class:`Sweep` per
  server closes those past it, every quarter of a second at most (a timeout is kept to within that);
- a cap of ``max_connections``: at the cap, a new connection closes the connection that has waited
  longest for its request head (an attacker's slow connections go first; a normal client sends its head
  at once), and only if every connection is busy with a request is the new one answered 503.

A response whose length is known (every cached answer) reaches the socket in one write, head and body
together (:class:`HeldHead`), instead of uvicorn's two. A vendor's ``GET``/``HEAD`` skips uvicorn's
request cycle and task altogether: the protocol writes its answer itself (:mod:`mockserver.serving.direct`).

:class:`HostGuard` refuses a ``Host`` the server does not serve (421) and a foreign ``Origin`` (403).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from http import HTTPStatus
from typing import Any, cast

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn._types import ASGI3Application
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from mockserver.engine.emulator import Emulator
from mockserver.engine.routing import HostPolicy
from mockserver.limits import Limits
from mockserver.serving.direct import Direct, DirectAnswers

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


DIRECT_METHODS = (b"GET", b"HEAD")
INTERNAL_ERROR = http_response(
    (500, [(b"content-type", b"text/plain; charset=utf-8")], b"Internal Server Error")
)
SWEEP_EVERY = 0.25  # seconds between two sweeps, at most: a timeout is kept to within this


class Sweep:
    """The one timer of a server: every ``interval`` seconds, close the connections past their deadline.

    A connection records when its wait for a request head or body ends (:attr:`GuardedProtocol.deadline`);
    arming and cancelling two timers per request cost about 9,000 instructions (docs/performance.md).
    The sweep runs while the server has connections: the first one starts it, it ends by itself once
    none is left, and :meth:`stop` ends it with the server.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._handle: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connections: set[Any] = set()

    @classmethod
    def for_limits(cls, limits: Limits) -> Sweep:
        """A sweep frequent enough for these timeouts: every quarter second, or a quarter of the shortest."""
        shortest = min(limits.head_timeout, limits.body_timeout)
        return cls(max(0.005, min(SWEEP_EVERY, shortest / 4)))

    def running(self) -> bool:
        """Whether a sweep is scheduled."""
        return self._handle is not None

    def watch(self, connection: GuardedProtocol) -> None:
        """Sweep the connections of ``connection``'s server (from now, if the sweep was not running)."""
        if self._handle is not None and self._loop is connection.loop:
            return
        self.stop()
        self._loop, self._connections = connection.loop, connection.connections
        self._handle = connection.loop.call_later(self.interval, self._sweep, connection.loop)

    def stop(self) -> None:
        """End the sweep (the server has stopped)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        late = [
            connection
            for connection in self._connections
            if isinstance(connection, GuardedProtocol)
            and connection.deadline is not None
            and connection.deadline <= now
        ]
        for connection in late:
            connection.timed_out()
        self._handle = loop.call_later(self.interval, self._sweep, loop) if self._connections else None


class HeldHead(asyncio.Transport):
    """What a request's cycle writes to: the head of a response of known length is held back and
    written with the first body bytes (the whole answer, for the emulator's cached answers), in one
    write instead of two. One per connection, re-armed per request.

    A head announcing ``transfer-encoding: chunked`` (a stream, such as the inspector's events) is
    written at once, as before; a held head whose body never comes (``HEAD``, 204, 304, an app that
    fails) is written when the response completes or before the connection closes.
    """

    __slots__ = ("expecting", "held", "transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        super().__init__()
        self.transport = transport
        self.held: bytes | None = None
        self.expecting = True  # the next write (but a 100 Continue) is a response head

    def write(self, data: bytes | bytearray | memoryview) -> None:
        held = self.held
        if held is not None:
            self.held = None
            if len(data) <= JOINED_BYTES:
                self.transport.write(held + data)
            else:  # a large body is not copied: one writev where the loop has it (uvloop)
                self.transport.writelines((held, data))
        elif self.expecting and data != CONTINUE:
            self.expecting = False
            head = bytes(data)
            if CHUNKED in head:
                self.transport.write(head)
            else:
                self.held = head
        else:
            self.transport.write(data)

    def flush(self) -> None:
        """Write a held head (its response is complete without body bytes)."""
        if self.held is not None:
            held, self.held = self.held, None
            if not self.transport.is_closing():
                self.transport.write(held)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.transport.get_extra_info(name, default)


CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"  # what uvicorn writes for ``Expect: 100-continue``
CHUNKED = b"\r\ntransfer-encoding: chunked\r\n"  # uvicorn writes header names in lower case
JOINED_BYTES = 64 * 1024  # a body up to this is copied after its head: one buffer, one write


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with head limits, head and body deadlines and a connection cap."""

    limits: Limits
    refusals: Refusals
    sweep: Sweep
    direct: DirectAnswers | None = None  # vendor reads answered without a task (mockserver.serving.direct)
    guard: object = None  # the app direct answers stand in for (else, e.g. uvicorn wrapped it: no direct)

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
        self._writer: HeldHead | None = None
        self._pending: tuple[RequestResponseCycle, Any, Scope] | None = None  # a direct answer's request
        self.deadline: float | None = None  # (loop time) while the connection waits for a head or body
        self.idle = False  # between requests: the deadline is the keep-alive timeout's
        self.waiting_since: float | None = None  # set while the connection waits for a request head

    @classmethod
    def configured(
        cls,
        limits: Limits,
        refusals: Refusals,
        direct: DirectAnswers | None = None,
        guard: object = None,
    ) -> type[GuardedProtocol]:
        """A protocol class bound to these limits (uvicorn creates one instance per connection), with
        the sweep of its server's deadlines and, given ``direct`` and the ``guard`` app it stands in for,
        vendor reads answered directly."""
        attributes = {
            "limits": limits,
            "refusals": refusals,
            "sweep": Sweep.for_limits(limits),
            "direct": direct,
            "guard": guard,
        }
        return type("ConfiguredGuardedProtocol", (cls,), attributes)

    # ------------------------------------------------------------------ connections

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections and not self._make_room():
            transport.write(UNAVAILABLE)
            transport.close()
            return
        self._writer = HeldHead(transport)
        self.waiting_since = now = self.loop.time()
        self.deadline = now + self.limits.head_timeout
        self.sweep.watch(self)

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
        self.deadline = self.waiting_since = None
        super().connection_lost(exc)

    def timed_out(self) -> None:
        """Past its deadline (the sweep): close the connection (quietly if it was only idle)."""
        self.deadline = None
        if not self.transport.is_closing():
            if not self.idle:
                self.logger.info("closed a connection that sent no complete request in time")
            self.transport.close()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        if self.direct is not None and app is self.guard and self._answers_directly(cycle):
            return
        if self._writer is not None:  # the cycle writes through the connection's HeldHead
            self._writer.expecting = True
            cycle.transport = self._writer
        super()._start_asgi_task(cycle, app)

    # ------------------------------------------------------------------ direct answers

    def _answers_directly(self, cycle: RequestResponseCycle) -> bool:
        """Whether this request is a vendor read answered without a task (once its message is in)."""
        if self.direct is None or cycle.waiting_for_100_continue or self.flow.write_paused:
            return False
        found = self.direct.vendor(cast("Scope", cycle.scope))
        if found is None:
            return False
        self._pending = (cycle, *found)
        if not cycle.more_body:  # a pipelined request, started after the one before it was answered
            self._answer_pending()
        return True

    def _answer_pending(self) -> None:
        """Answer the pending direct request: its bytes written whole, or its reply sent by a task."""
        assert self.direct is not None
        assert self._pending is not None
        cycle, app, scope = self._pending
        self._pending = None
        try:
            answer = self.direct.answer(app, scope, self.server_state.default_headers, cycle.keep_alive)
        except Exception:  # past the vendor app's own guard (the request log, say): as uvicorn does
            self.logger.exception("Exception in ASGI application")
            answer, cycle.keep_alive = Direct((INTERNAL_ERROR,), 500), False
        if not isinstance(answer, Direct):  # it waits or is cut short: uvicorn's cycle sends it
            if self._writer is not None:
                self._writer.expecting = True
                cycle.transport = self._writer
            super()._start_asgi_task(cycle, cast("ASGI3Application", answer))
            return
        cycle.response_started = cycle.response_complete = True
        cycle.waiting_for_100_continue = False
        if not self.transport.is_closing():
            if len(answer.data) == 1:
                self.transport.write(answer.data[0])
            else:
                self.transport.writelines(answer.data)
        if not cycle.keep_alive:
            self.transport.close()
        self.on_response_complete()

    def on_response_complete(self) -> None:
        """uvicorn's, with the keep-alive timeout kept by the sweep instead of a timer per response."""
        if self._writer is not None:
            self._writer.flush()
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self._unset_keepalive_if_required()
        self.flow.resume_reading()
        if self.pipeline:  # a pipelined request waits: start it
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        else:  # idle: the keep-alive timeout closes it (quietly) unless a request begins
            self.waiting_since = now = self.loop.time()
            self.deadline = now + self.timeout_keep_alive
            self.idle = True

    # ------------------------------------------------------------------ the request head

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._refused = False
        self._line = self._count = self._bytes = 0
        self.waiting_since = now = self.loop.time()
        if self.deadline is None or self.idle:  # else the first head: its deadline runs from the connection
            self.deadline = now + self.limits.head_timeout
            self.idle = False

    def on_url(self, url: bytes) -> None:
        if self._refused:
            return
        self._line += len(url)
        if self._line > self.limits.max_request_line:
            self.url += url[:256]  # enough to know the vendor whose error shape to answer in
            self._refuse("uri_too_long")
            return
        self.url += url  # uvicorn's on_url, inlined (a frame less per callback)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._refused:
            return
        self._count += 1
        self._bytes += len(name) + len(value)
        if self._count > self.limits.max_headers or self._bytes > self.limits.max_header_bytes:
            self._refuse("header_too_large")
            return
        name = name.lower()  # uvicorn's on_header, inlined (a frame less per header)
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self._refused:
            self.deadline = self.waiting_since = None
            return
        # until its body is in, a request still waits on its client: it may be cut (timeout, cap)
        self.waiting_since = now = self.loop.time()
        self.deadline = now + self.limits.body_timeout
        if self.direct is None or not self._direct_head():
            super().on_headers_complete()

    def _direct_head(self) -> bool:
        """uvicorn's ``on_headers_complete`` for a vendor read whose target is a plain path and query: the
        scope filled by splitting the target (httptools' ``parse_url`` cost 1 to 2.6 µs), its cycle made,
        and the request answered once its message is in. False for everything else (uvicorn's way)."""
        url = self.url
        if url[:1] != b"/" or b"#" in url or self.expect_100_continue or self.limit_concurrency is not None:
            return False
        if self.cycle is not None and not self.cycle.response_complete:
            return False  # pipelined behind a response under way: uvicorn queues it
        parser = self.parser
        method = parser.get_method()
        if method not in DIRECT_METHODS or parser.should_upgrade() or self.flow.write_paused:
            return False
        raw_path, _, query = url.partition(b"?")
        if b"%" in raw_path or not raw_path.isascii():
            return False  # uvicorn unquotes, or refuses
        scope = self.scope
        http_version = parser.get_http_version()
        scope["method"] = method.decode("ascii")
        if http_version != "1.1":
            scope["http_version"] = http_version
        scope["path"] = self.root_path + raw_path.decode("ascii")
        scope["raw_path"] = self.root_path.encode("ascii") + raw_path
        scope["query_string"] = query
        assert self.direct is not None
        found = self.direct.vendor(cast("Scope", scope))
        if found is None:
            return False
        self.cycle = RequestResponseCycle(
            scope=scope,
            transport=self.transport,
            flow=self.flow,
            logger=self.logger,
            access_logger=self.access_logger,
            access_log=self.access_log,
            default_headers=self.server_state.default_headers,
            message_event=asyncio.Event(),
            expect_100_continue=False,
            keep_alive=http_version != "1.0" and parser.should_keep_alive(),
            on_response=self.on_response_complete,
        )
        self._pending = (self.cycle, *found)
        return True

    def on_body(self, body: bytes) -> None:
        if self._refused or (self._pending is not None and self._pending[0] is self.cycle):
            return  # a direct read's body is never read (the vendor app ignores a GET's body too)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self.deadline = self.waiting_since = None
        if self._refused:
            return
        super().on_message_complete()
        if self._pending is not None and self._pending[0] is self.cycle:
            self._answer_pending()

    def _refuse(self, kind: str) -> None:
        """Answer ``kind`` in the vendor's shape (unless a response is under way) and close."""
        self._refused = True
        self.deadline = None
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
            kind = self.policy.refusal(host, origin)
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
    app: ASGIApp, emulator: Emulator, bound: str, allowed_hosts: list[str], *, direct: bool = True
) -> tuple[ASGIApp, Callable[[Limits], type[GuardedProtocol]]]:
    """The app behind the Host/Origin guard, and the protocol class factory, for ``serve``.

    With ``direct``, vendor reads are answered by the protocol (:mod:`mockserver.serving.direct`): only
    when every layer between the guard and the vendor apps hands vendor paths through unchanged.
    """
    refusals = Refusals(emulator)
    vendor_hosts = [host for spec in emulator.vendors.values() for host in spec.hosts]  # wildcards too
    policy = HostPolicy.for_server(bound, allowed_hosts, vendor_hosts)
    guard = HostGuard(app, policy, refusals)
    answers = DirectAnswers(emulator.routes, policy) if direct else None
    return guard, lambda limits: GuardedProtocol.configured(limits, refusals, answers, guard)
