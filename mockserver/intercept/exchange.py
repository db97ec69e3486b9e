"""One request from any HTTP client, answered by a vendor's engine: the part every interceptor shares.

Each client library describes a request its own way (``httpx.Request``, ``requests.PreparedRequest``,
aiohttp's URL and keyword arguments). Each interceptor turns its request into the ASGI scope the engine
reads, and the engine's :class:`~mockserver.engine.pipeline.Reply` into its library's response, so that every
client sees the same statuses, headers, bodies, journal entries, faults and tenants as over HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from mockserver.engine.vendor_app import VendorApp

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
HeaderPairs = Iterable[tuple[str | bytes, str | bytes]]


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")


def host_pattern(host: str) -> re.Pattern[str]:
    """A regex for one declared host; ``*.example.com`` matches any one-label subdomain."""
    if host.startswith("*."):
        return re.compile(r"^[a-z0-9-]+\." + re.escape(host[2:]) + r"$", re.IGNORECASE)
    return re.compile("^" + re.escape(host) + "$", re.IGNORECASE)


def url_pattern(host: str) -> re.Pattern[str]:
    """A regex that matches every http(s) URL on a declared host, whatever its port, path and query."""
    label = r"[a-z0-9-]+\." + re.escape(host[2:]) if host.startswith("*.") else re.escape(host)
    return re.compile(rf"^https?://{label}(?::\d+)?(?:[/?#]|$)", re.IGNORECASE)


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
    """An engine Reply as a client library builds its response from it: status, the headers as sent
    (text), the body (none for HEAD) and the delay before it."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    delay: float

    @property
    def content_type(self) -> str | None:
        """The Content-Type header, if the reply has one."""
        return next((value for name, value in self.headers if name == "content-type"), None)


def answer(vendor_app: VendorApp, scope: dict[str, Any]) -> ClientReply:
    """The vendor engine's answer to one request (journaled, faults applied, as over HTTP)."""
    reply = vendor_app.reply(scope)
    headers = [
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in vendor_app.raw_headers(reply)
    ]
    body = b"" if scope["method"] == "HEAD" else reply.body
    return ClientReply(reply.status, headers, body, reply.delay)


def read_timeout(timeout: object) -> float | None:
    """The read timeout in seconds of a client's timeout setting (a number, a pair, or None)."""
    if isinstance(timeout, int | float) and not isinstance(timeout, bool):
        return float(timeout)
    if isinstance(timeout, tuple) and len(timeout) == 2:
        return read_timeout(timeout[1])
    return None
