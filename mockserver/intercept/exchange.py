"""One request from any HTTP client, answered by a vendor's engine: the part every interceptor shares.

Each client library describes a request its own way (``httpx.Request``, ``requests.PreparedRequest``,
aiohttp's URL and keyword arguments). Each interceptor turns its request into the ASGI scope the engine
reads; :func:`answer` adapts the engine's :class:`~mockserver.engine.pipeline.Reply` to the request once
(status, headers, the HEAD rule, the delay fault, the client's read timeout, a body cut short by a drift)
into a :class:`ClientReply`, which each interceptor only translates into its library's response or
error. So every
client sees the same statuses, headers, bodies, journal entries, faults and tenants as over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from mockserver.engine.vendor_app import VendorApp

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
HeaderPairs = Iterable[tuple[str | bytes, str | bytes]]


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")


def http_scope(
    method: str,
    *,
    scheme: str,
    host: str,
    port: int | None,
    raw_path: bytes,
    query: bytes,
    headers: HeaderPairs,
    root_path: str = "",
) -> dict[str, Any]:
    """The ASGI scope a server would build for this request (no socket: the client is 127.0.0.1)."""
    raw_path = raw_path or b"/"
    return {
        "type": "http",
        "http_version": "1.1",
        "method": method.upper(),
        "scheme": scheme,
        "path": unquote_to_bytes(raw_path).decode("utf-8", "replace"),
        "raw_path": raw_path,
        "root_path": root_path,
        "query_string": query,
        "headers": [(_bytes(name).lower(), _bytes(value)) for name, value in headers],
        "server": (host, port or (443 if scheme == "https" else 80)),
        "client": ("127.0.0.1", 0),
    }


def scope_for_url(method: str, url: str, headers: HeaderPairs) -> dict[str, Any]:
    """The scope of a request given as a full URL string (``https://host/path?query``)."""
    parts = urlsplit(url)
    return http_scope(
        method,
        scheme=parts.scheme,
        host=parts.hostname or "",
        port=parts.port,
        raw_path=parts.path.encode("latin-1", "replace"),
        query=parts.query.encode("latin-1", "replace"),
        headers=headers,
    )


@dataclass(frozen=True)
class ClientReply:
    """An engine Reply as a client library turns it into its own response, decided once for every client.

    The engine's reply, adapted to one request: the headers as the engine sends them, no body for
    ``HEAD``, and how long the body takes to arrive. When that is longer than the client's read timeout,
    the client waits ``wait`` (its timeout) and then raises its own read-timeout error (``timed_out``),
    as it would on a network; otherwise it waits ``wait`` (the delay fault, 0 for none) for the body.
    """

    status: int
    raw_headers: list[tuple[bytes, bytes]]
    body: bytes
    wait: float
    timed_out: bool = False
    cut: bool = False  # a drift cut the body short: ``body`` is the part sent, then the connection closes

    @property
    def cut_message(self) -> str:
        """What the client's incomplete-body error says, as a network would have it."""
        declared = next((value for name, value in self.raw_headers if name == b"content-length"), b"?")
        return (
            f"peer closed connection without sending complete message body "
            f"(received {len(self.body)} bytes, expected {declared.decode('latin-1')})"
        )

    @property
    def headers(self) -> list[tuple[str, str]]:
        """The headers as text (what ``requests`` and aiohttp take)."""
        return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in self.raw_headers]

    @property
    def content_type(self) -> str | None:
        """The Content-Type header, if the answer has one."""
        return next(
            (value.decode("latin-1") for name, value in self.raw_headers if name == b"content-type"), None
        )


TIMEOUT_MESSAGE = "the emulated vendor is slower than the read timeout"


def refusal(host: str) -> str:
    """What a client's connection error says for another host while other hosts are refused."""
    return (
        f"vendor-emulator refused {host}: only the emulated vendors' hosts are answered "
        "(mock_vendors(other_hosts='allow') or the ini option vendor_emulator_other_hosts = allow lets "
        "other hosts through)"
    )


def answer(
    vendor_app: VendorApp, scope: dict[str, Any], timeout: float | None = None, body: bytes = b""
) -> ClientReply:
    """The vendor engine's answer to one request (journaled, faults applied, as over HTTP).

    ``timeout`` is the client's read timeout in seconds (None: it waits as long as it takes); ``body`` is
    the request body (what a write operation reads).
    """
    reply = vendor_app.reply(scope, body)
    body = reply.body_for(scope["method"])
    headers = vendor_app.raw_headers(reply)
    if reply.delay and timeout is not None and reply.delay > timeout:
        return ClientReply(reply.status, headers, b"", timeout, timed_out=True)
    if reply.cut is not None and body:
        return ClientReply(reply.status, headers, body[: reply.cut], reply.delay, cut=True)
    return ClientReply(reply.status, headers, body, reply.delay)


def read_timeout(timeout: object) -> float | None:
    """The read timeout in seconds of a client's timeout setting (a number, a pair, or None)."""
    if isinstance(timeout, int | float) and not isinstance(timeout, bool):
        return float(timeout)
    if isinstance(timeout, tuple) and len(timeout) == 2:
        return read_timeout(timeout[1])
    return None


def body_bytes(body: object) -> bytes:
    """A client's request body as bytes (str, bytes, or nothing; a stream or form is read as empty)."""
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    return b""
