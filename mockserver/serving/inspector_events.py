"""The journal as server-sent events: ``GET /__mock__/journal/events`` (the inspector follows it).

Each new request the caller may see (the same ``vendor``, ``tenant`` and ``status`` filters and tenant
rules as ``GET /__mock__/journal``) is sent as ``event: entry`` with the entry's summary as ``data``, a
moment after its answer. Bounded, so that an inspector can never cost the emulator unbounded memory (the
budgets are limits, :mod:`mockserver.limits`, each with its ``serve`` flag):

- at most ``max_event_streams`` streams at a time; one more gets 503 ``too_many_subscribers`` (the page
  then polls ``GET /__mock__/journal`` instead);
- each stream holds at most ``event_stream_bytes`` of events not yet written to its socket (the socket's
  own buffer is bounded by the server's flow control), and all streams together ``event_streams_bytes``
  (so the worst case is that total, not the number of streams times the budget of each); a reader that
  falls further behind, or the one furthest behind when the total is reached, is dropped: its stream
  ends, the page catches up with one poll and subscribes again;
- an idle stream costs one parked task, and a comment line every ``HEARTBEAT_SECONDS``, which is also
  when a client that has left is noticed and its stream let go.

Nothing runs on the vendor request path while no stream is open (the journal's listener is unset). With
``--state redis`` a request's entry is numbered in Redis later, so this process sends ``event: changed``
(no data) instead, and the page reads the new entries with one poll; requests answered by other
processes reach the page through its catch-up poll every 2 s.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from mockserver.limits import DEFAULT_LIMITS
from mockserver.state.journal import WATCH_SECONDS, Journal, JournalEntry

# a multiple of the tick (WATCH_SECONDS / 2); how long a client that left may hold its stream's slot
HEARTBEAT_SECONDS = 5.0
STREAM_HEADERS = {"cache-control": "no-store", "x-accel-buffering": "no", "x-content-type-options": "nosniff"}
CHANGED = b"event: changed\ndata: {}\n\n"
KEEP_ALIVE = b": keep-alive\n\n"

Matches = Callable[[JournalEntry], bool]
Summary = Callable[[JournalEntry], object]


class Subscriber:
    """One open stream: the events not yet written, their bytes, and how to wake its writer.

    Small on purpose (a thousand idle ones are measured): a list, not a deque, and one future to wait
    on instead of an asyncio.Event (each of those keeps a deque of its own).
    """

    __slots__ = ("beat", "dropped", "matches", "pending", "pending_bytes", "waiter")

    def __init__(self, matches: Matches) -> None:
        self.matches = matches
        self.pending: list[bytes] = []
        self.pending_bytes = 0
        self.waiter: asyncio.Future[None] | None = None
        self.dropped = False
        self.beat = False  # a heartbeat is due

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self) -> None:
        """Until woken (returns at once if something is already due)."""
        if self.pending or self.dropped or self.beat:
            return
        self.waiter = asyncio.get_running_loop().create_future()
        try:
            await self.waiter
        finally:
            self.waiter = None


class JournalEvents:
    """The open streams of one emulator's journal, fed by the journal's listener."""

    def __init__(
        self,
        journal: Journal,
        summary: Summary,
        max_subscribers: int = DEFAULT_LIMITS.max_event_streams,
        subscriber_bytes: int = DEFAULT_LIMITS.event_stream_bytes,
        total_bytes: int = DEFAULT_LIMITS.event_streams_bytes,
    ) -> None:
        self.journal = journal
        self.summary = summary
        self.max_subscribers = max_subscribers
        self.subscriber_bytes = subscriber_bytes
        self.total_bytes = total_bytes
        self.pending_bytes = 0  # of every subscriber together: the sum of their ``pending_bytes``
        self.subscribers: set[Subscriber] = set()
        self.dropped = 0  # slow readers dropped since start (for tests and the benchmark)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ticking: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------------ the journal's side (any thread)

    def recorded(self, entry: JournalEntry) -> None:
        """The journal's listener: hand the entry to the event loop that serves the streams."""
        loop = self._loop
        if loop is None or not self.subscribers:
            return
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._deliver(entry)
        else:  # an in-process transport answering on another thread
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(self._deliver, entry)

    def _deliver(self, entry: JournalEntry) -> None:
        event: bytes | None = None
        for subscriber in self.subscribers:
            if subscriber.dropped or not subscriber.matches(entry):
                continue
            if event is None:
                event = (
                    CHANGED
                    if entry.sequence == 0  # a shared journal numbers it later
                    else b"id: %d\nevent: entry\ndata: %b\n\n"
                    % (entry.sequence, orjson.dumps(self.summary(entry)))
                )
            if subscriber.pending_bytes + len(event) > self.subscriber_bytes:
                self._drop(subscriber)  # a slow reader: dropped, never buffered without bound
            else:
                while self.pending_bytes and self.pending_bytes + len(event) > self.total_bytes:
                    self._drop(max(self.subscribers, key=_behind))  # the reader furthest behind
                if self.pending_bytes + len(event) > self.total_bytes:
                    self._drop(subscriber)  # one event larger than the whole budget
                if not subscriber.dropped:
                    subscriber.pending.append(event)
                    subscriber.pending_bytes += len(event)
                    self.pending_bytes += len(event)
            subscriber.wake()

    def _drop(self, subscriber: Subscriber) -> None:
        """End a stream that fell behind: its events are let go (the page catches up by polling)."""
        if subscriber.dropped:
            return
        subscriber.dropped = True
        subscriber.pending.clear()
        self._settle(subscriber, 0)
        self.dropped += 1
        subscriber.wake()

    def _settle(self, subscriber: Subscriber, pending_bytes: int) -> None:
        """Set what ``subscriber`` holds, keeping the total in step."""
        self.pending_bytes += pending_bytes - subscriber.pending_bytes
        subscriber.pending_bytes = pending_bytes

    # ------------------------------------------------------------------ the streams' side (event loop)

    def subscribe(self, matches: Matches) -> Subscriber | None:
        """A new stream, or None when ``max_subscribers`` are open."""
        if len(self.subscribers) >= self.max_subscribers:
            return None
        self._loop = asyncio.get_running_loop()
        subscriber = Subscriber(matches)
        self.subscribers.add(subscriber)
        self.journal.listener = self.recorded
        self.journal.watch()
        if self._ticking is None:
            self._ticking = self._loop.call_later(WATCH_SECONDS / 2, self._tick, 0.0)
        return subscriber

    def close_all(self) -> None:
        """End every open stream (the server is stopping); the page falls back to polling, then retries."""
        for subscriber in self.subscribers:
            subscriber.dropped = True
            subscriber.wake()

    def unsubscribe(self, subscriber: Subscriber) -> None:
        if subscriber in self.subscribers:
            self._settle(subscriber, 0)
        self.subscribers.discard(subscriber)
        if not self.subscribers:
            self.journal.listener = None

    def _tick(self, since_beat: float) -> None:
        """One timer for every stream (no task or timer of each): while a stream is open, the journal
        keeps the details the page shows (as the page's polls did), and each stream gets a heartbeat."""
        self._ticking = None
        if not self.subscribers or self._loop is None:
            return
        self.journal.watch()
        since_beat += WATCH_SECONDS / 2
        if since_beat >= HEARTBEAT_SECONDS:
            since_beat = 0.0
            for subscriber in self.subscribers:
                subscriber.beat = True
                subscriber.wake()
        self._ticking = self._loop.call_later(WATCH_SECONDS / 2, self._tick, since_beat)

    async def stream(self, subscriber: Subscriber) -> AsyncGenerator[bytes, None]:
        """The bytes of one stream: a first comment, then events as they come, heartbeats between."""
        try:
            yield b"retry: 2000\n: following the journal\n\n"
            while True:
                await subscriber.wait()
                if subscriber.dropped:
                    break
                if subscriber.pending:
                    chunk = b"".join(subscriber.pending)
                    subscriber.pending.clear()
                    yield chunk  # waits while the socket's buffer is full: meanwhile new events count
                    self._settle(subscriber, sum(map(len, subscriber.pending)))
                elif subscriber.beat:
                    subscriber.beat = False
                    yield KEEP_ALIVE
        finally:
            self.unsubscribe(subscriber)

    def response(self, request: Request, matches: Matches) -> Response:
        subscriber = self.subscribe(matches)
        if subscriber is None:
            return JSONResponse(
                {"error": "too_many_subscribers", "message": f"at most {self.max_subscribers} open streams"},
                503,
                headers={"retry-after": "5"},
            )
        return EventStream(self.stream(subscriber), subscriber)


def _behind(subscriber: Subscriber) -> int:
    """How far a live reader is behind (a dropped one holds nothing and is never chosen again)."""
    return -1 if subscriber.dropped else subscriber.pending_bytes


class EventStream(Response):
    """A streaming response that costs an idle stream as little as can be: only the server's task for
    the request, parked on the subscriber's event (Starlette's StreamingResponse keeps a task group of
    two more tasks, one waiting for the client to leave, and their frames, for each stream)."""

    media_type = "text/event-stream"

    def __init__(self, body: AsyncGenerator[bytes, None], subscriber: Subscriber) -> None:
        # not Response.__init__: it would send content-length: 0
        self.status_code = 200
        self.background = None
        headers = {**STREAM_HEADERS, "content-type": "text/event-stream; charset=utf-8"}
        self.raw_headers = [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
        ]
        self.chunks = body
        self.subscriber = subscriber

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await receive()  # the request (a GET: no body); later ones tell of the client leaving
            await send(
                {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
            )
            async for chunk in self.chunks:
                # A client that left is noticed at its next heartbeat, within HEARTBEAT_SECONDS (a
                # server's send to it does nothing): no task of its own waits for that, which keeps
                # an idle stream small.
                if chunk == KEEP_ALIVE and await _left(receive):
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            else:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:  # the client went away while a chunk was written
            pass
        finally:
            await self.chunks.aclose()


async def _left(receive: Receive) -> bool:
    """Whether the client has gone (the server answers ``receive`` at once then; else it would wait)."""
    try:
        message = await asyncio.wait_for(receive(), 0.01)
    except TimeoutError:
        return False
    return bool(message["type"] == "http.disconnect")
