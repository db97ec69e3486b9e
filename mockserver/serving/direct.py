"""Direct answers: a vendor's ``GET``/``HEAD`` answered by the protocol itself, without an ASGI cycle.

On ``serve``'s default command line a vendor read request goes through exactly this: the Host/Origin
guard, the vendor's mount, and :meth:`VendorApp.reply <mockserver.engine.vendor_app.VendorApp.reply>`,
which is synchronous (authentication, rate limits, faults, drifts, the answer, the journal); the request
log is the vendor app's own call. None of it needs a task, so the guarded protocol asks
:meth:`DirectAnswers.answer` for the response bytes and writes them, head and body in one write, instead
of creating uvicorn's request cycle, an asyncio task and two ``send`` coroutines per request (about a
third of the CPU a cached answer cost: docs/performance.md, "Direct answers").

What takes the usual ASGI way, unchanged: every other method (a write reads its body, in a thread), the
``/__mock__`` controls, the inspector and unknown paths, a ``Host`` or ``Origin`` the guard refuses (its
refusal is the guard's), and an answer that must wait or be cut (a latency fault or drift, a body cut
short): its reply is computed once, here, and then sent by a task through uvicorn's cycle
(:func:`sending`), so the journal and the faults see the request once.

The bytes are uvicorn's: its status line, its default headers (``date``, ``server``), the reply's
headers, ``connection: close`` when the connection is not kept alive, and no body for ``HEAD``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import STATUS_LINE

from mockserver.engine.pipeline import Reply
from mockserver.engine.routing import HostPolicy, Routes

if TYPE_CHECKING:
    from mockserver.engine.vendor_app import VendorApp

READS = frozenset({"GET", "HEAD"})
ENCODED_HEADERS = 1024  # header lists kept encoded (a cached answer's list is one object: few distinct)
JOINED_BYTES = 64 * 1024  # a body up to this is copied after its head: one buffer, one write
FORBIDDEN = (b"\r", b"\n", b"\x00")  # in a header value: uvicorn refuses it (the ASGI way does, then)


class Direct:
    """A response the protocol writes itself: its bytes, and the reply's status (for the request log)."""

    __slots__ = ("data", "status")

    def __init__(self, data: tuple[bytes, ...], status: int) -> None:
        self.data = data
        self.status = status


class DirectAnswers:
    """Which requests are answered directly, and their response bytes.

    ``routes`` is the emulator's vendor routing (:class:`~mockserver.engine.routing.Routes`) and
    ``policy`` the Host/Origin guard's, so that a request answered here is one the ASGI stack would
    have handed, unchanged, to the same vendor app.
    """

    def __init__(self, routes: Routes[VendorApp], policy: HostPolicy) -> None:
        self.routes = routes
        self.policy = policy
        self._encoded: dict[int, tuple[list[tuple[bytes, bytes]], bytes | None]] = {}
        self._defaults: tuple[list[tuple[bytes, bytes]] | None, bytes] = (None, b"")

    def vendor(self, scope: Scope) -> tuple[VendorApp, Scope] | None:
        """The vendor app answering a ``GET``/``HEAD`` with this scope directly (and the scope as that
        app sees it), or None for the ASGI way."""
        if scope["method"] not in READS:
            return None
        mounted = self.routes.for_path(scope["path"])
        if mounted is None or not self._host_allowed(scope["headers"]):
            return None
        if mounted.prefix:
            scope = {**scope, "root_path": scope.get("root_path", "") + mounted.prefix}
        return mounted.owner, scope

    def _host_allowed(self, headers: list[tuple[bytes, bytes]]) -> bool:
        host = origin = None
        for name, value in headers:
            if name == b"host" and host is None:
                host = value.decode("latin-1")
            elif name == b"origin" and origin is None:
                origin = value.decode("latin-1")
        return self.policy.refusal(host, origin) is None

    def answer(
        self,
        app: VendorApp,
        scope: Scope,
        default_headers: list[tuple[bytes, bytes]],
        keep_alive: bool,
    ) -> Direct | ASGIApp:
        """The reply to one request, as bytes to write (a :class:`Direct`), or an ASGI app that sends it
        the usual way when it must wait, is cut short, or has a header uvicorn would refuse."""
        started = time.perf_counter()
        reply = app.reply(scope)
        if reply.delay or reply.cut is not None:
            return sending(app, reply, started)
        headers = self._headers(app.raw_headers(reply))
        if headers is None:
            return sending(app, reply, started)
        head = b"".join(
            (
                STATUS_LINE[reply.status],
                self._default_bytes(default_headers),
                headers,
                b"\r\n" if keep_alive else b"connection: close\r\n\r\n",
            )
        )
        body = reply.body_for(scope["method"])
        data = (head + body,) if len(body) <= JOINED_BYTES else (head, body)
        if app.request_log is not None:
            app.request_log(scope, reply.status, time.perf_counter() - started)
        return Direct(data, reply.status)

    def _headers(self, raw: list[tuple[bytes, bytes]]) -> bytes | None:
        """A reply's header list encoded once (the vendor app keeps one list per cached reply), or None
        when a value holds a line break or NUL (left to uvicorn, which refuses it)."""
        cached = self._encoded.get(id(raw))
        if cached is not None and cached[0] is raw:
            return cached[1]
        encoded: bytes | None = b"".join(name + b": " + value + b"\r\n" for name, value in raw)
        if any(mark in value for _, value in raw for mark in FORBIDDEN):
            encoded = None
        if len(self._encoded) >= ENCODED_HEADERS:
            self._encoded.clear()
        self._encoded[id(raw)] = (raw, encoded)  # the list is held: its id is not reused meanwhile
        return encoded

    def _default_bytes(self, default_headers: list[tuple[bytes, bytes]]) -> bytes:
        """uvicorn's default headers (``date`` changes every second: a new list), encoded once per list."""
        kept, encoded = self._defaults
        if kept is not default_headers:
            encoded = b"".join(name + b": " + value + b"\r\n" for name, value in default_headers)
            self._defaults = (default_headers, encoded)
        return encoded


def sending(app: VendorApp, reply: Reply, started: float) -> ASGIApp:
    """An ASGI app that sends ``reply`` (already computed and journaled) as the vendor app would."""

    async def send_reply(scope: Scope, receive: Receive, send: Send) -> None:
        await app.send_reply(scope, send, reply, started)

    return send_reply
