"""The per-request log of ``serve``: one compact line a request, formatted cheaply and written in batches.

uvicorn's access log goes through :mod:`logging` (a record, a formatter, a handler and a write per
request), which cost about half the server's throughput. This middleware builds the line itself from
the ASGI scope and the response status, appends it to a buffer, and writes the buffer every
``FLUSH_SECONDS`` (or once it holds ``FLUSH_LINES`` lines), so a busy server makes a few writes a second.

Formats: ``text`` (``2026-12-02T15:48:26Z 127.0.0.1 GET /butter/api/phone-numbers?page=2 200 0.41ms``),
``json`` (one object a line) and ``off``. A secret-looking query parameter (``?api_key=...``) is
redacted before the line is made; headers are never logged. uvicorn's own access log, off under
``serve``, gets the same redaction from :class:`RedactQuerySecrets` should anyone turn it back on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.limits import Limits
from mockserver.state.journal import redacted_query, redacted_target

FORMATS = ("text", "json", "off")
FLUSH_SECONDS = 0.2
FLUSH_LINES = 512


class ByteStream(Protocol):
    """Where lines go: stdout's buffer, or a :class:`RotatingFile`."""

    def write(self, data: bytes, /) -> int: ...

    def flush(self) -> None: ...


class LineWriter:
    """A bounded buffer of lines, written to ``stream`` in batches."""

    def __init__(self, stream: ByteStream) -> None:
        self.stream = stream
        self._lines: list[bytes] = []
        self._scheduled = False

    def add(self, line: bytes) -> None:
        self._lines.append(line)
        if len(self._lines) >= FLUSH_LINES:
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            try:
                asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)
            except RuntimeError:  # no loop (a synchronous caller): write now
                self.flush()

    def flush(self) -> None:
        self._scheduled = False
        lines, self._lines = self._lines, []
        if lines:
            with contextlib.suppress(OSError, ValueError):  # a closed or broken stdout never fails a request
                self.stream.write(b"".join(lines))
                self.stream.flush()


class _Clock:
    """The current time as an ISO 8601 string, formatted once a second."""

    def __init__(self) -> None:
        self._second = -1.0
        self._next = -1.0  # the text holds from _second until _next (one second later)
        self._text = ""

    def now(self) -> str:
        now = time.time()
        if not self._second <= now < self._next:
            second = int(now)
            self._second, self._next = float(second), second + 1.0
            self._text = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
        return self._text


def _target(scope: Scope) -> str:
    path: str = scope["path"]
    query: bytes = scope.get("query_string", b"")
    if not query:
        return path
    if "?" in path:  # an escaped "?" in the path: redacted as the whole target always was
        return redacted_target(f"{path}?{query.decode('latin-1')}")
    return f"{path}?{redacted_query(query).decode('latin-1')}"


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "-"


def text_line(scope: Scope, status: int, seconds: float, clock: _Clock) -> bytes:
    target = _target(scope)
    line = f"{clock.now()} {_client(scope)} {scope['method']} {target} {status} {seconds * 1000:.2f}ms\n"
    return line.encode("utf-8", "replace")


def json_line(scope: Scope, status: int, seconds: float, clock: _Clock) -> bytes:
    entry: dict[str, Any] = {
        "at": clock.now(),
        "client": _client(scope),
        "method": scope["method"],
        "target": _target(scope),
        "status": status,
        "ms": round(seconds * 1000, 3),
    }
    return orjson.dumps(entry) + b"\n"


class AccessLog:
    """ASGI middleware: one line per HTTP request, in ``text`` or ``json``."""

    def __init__(self, app: ASGIApp, log_format: str = "text", stream: ByteStream | None = None) -> None:
        if log_format not in ("text", "json"):
            raise ValueError(f"log format is one of {FORMATS}, got {log_format!r}")
        self.app = app
        self.writer = LineWriter(stream or sys.stdout.buffer)
        self._format: Callable[[Scope, int, float, _Clock], bytes] = (
            text_line if log_format == "text" else json_line
        )
        self._clock = _Clock()
        # The emulator's vendor apps log their own requests (cheaper than wrapping send); only the
        # rest (index, admin API, unknown paths) goes through the wrapper below.
        self._fast: Callable[[str], object] | None = getattr(app, "vendor_for", None)
        if self._fast is not None:
            app.log_requests(self.log)  # type: ignore[attr-defined]

    def log(self, scope: Scope, status: int, seconds: float) -> None:
        """Add one request's line (what the vendor apps call after answering)."""
        self.writer.add(self._format(scope, status, seconds, self._clock))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self._fast is not None and self._fast(scope["path"]) is not None):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.writer.add(self._format(scope, status, time.perf_counter() - started, self._clock))


class RotatingFile:
    """``--log-file``: the request log written to a file, rotated before it passes ``log_max_bytes``
    (``PATH.1`` ... ``PATH.<log_backups>`` keep the previous ones; older ones are deleted)."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.max_bytes = limits.log_max_bytes
        self.backups = limits.log_backups
        self._file = path.open("ab")
        self._size = self._file.tell()

    def write(self, data: bytes) -> int:
        for line in data.splitlines(keepends=True):
            if self._size and self._size + len(line) > self.max_bytes:
                self._rotate()
            self._file.write(line)
            self._size += len(line)
        return len(data)

    def _rotate(self) -> None:
        self._file.close()
        for index in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{index}")
            if older.exists():
                older.replace(self.path.with_name(f"{self.path.name}.{index + 1}"))
        if self.backups > 0:
            self.path.replace(self.path.with_name(f"{self.path.name}.1"))
        else:
            self.path.unlink(missing_ok=True)
        self._file = self.path.open("ab")
        self._size = 0

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()


class RedactQuerySecrets(logging.Filter):
    """Keeps a key passed in a query string (``?api_key=...``) out of uvicorn's access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            record.args = (*record.args[:2], redacted_target(record.args[2]), *record.args[3:])
        return True
