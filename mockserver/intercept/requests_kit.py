"""``requests`` (sessions, custom adapters, streaming, redirects, retries), answered at ``HTTPAdapter.send``.

Needs the ``[requests]`` extra (``requests`` itself: no mocking library). While a mock is active,
``requests.adapters.HTTPAdapter.send`` is a plain function (:func:`send`): a request for a routed host is
answered by the vendor's engine, and its response is built as requests builds one from a socket
(``adapter.build_response`` over an in-memory ``urllib3.HTTPResponse``: status, reason, repeated headers,
``Set-Cookie`` into the cookie jars, ``raw``, ``stream=True``). Every ``Session`` and every adapter derived
from ``HTTPAdapter`` is answered, and what a ``Session`` does around the adapter (redirects, one ``send``
per hop; ``elapsed``; hooks) runs as over a network. An adapter's ``max_retries`` retries a status as
urllib3 would (``status_forcelist``, ``Retry-After``), at once: neither the ``Retry-After`` nor the
backoff is slept. Other hosts get a ``requests.ConnectionError``, or the original ``send`` when they are
allowed.

Mocks nest: the one started last answers (and refuses the hosts only an outer one routes) until it stops,
whatever the order the mocks stop in; the original ``send`` is back once the last one has stopped.
"""

from __future__ import annotations

import http.client
import io
import threading
import time
from collections.abc import Callable, Iterable
from re import Pattern
from typing import Any, cast
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError

from mockserver.engine.routing import url_pattern
from mockserver.engine.vendor_app import VendorApp
from mockserver.engine.writes import MAX_BODY_BYTES
from mockserver.intercept.base import OtherHosts
from mockserver.intercept.exchange import (
    TIMEOUT_MESSAGE,
    answer,
    body_bytes,
    read_timeout,
    refusal,
    scope_for_url,
)

Send = Callable[..., requests.Response]

_LOCK = threading.Lock()
_ACTIVE: list[RequestsInterceptor] = []  # started and not stopped, in the order they started
_original: Send = HTTPAdapter.send  # what send hands other hosts: HTTPAdapter.send before the patch
_PATTERNS: dict[str, Pattern[str]] = {}  # url_pattern(host), by host


class RequestsInterceptor:
    """Answers ``requests`` calls for routed hosts with their vendors' engines (see the module)."""

    client = "requests"

    def __init__(self, other_hosts: OtherHosts) -> None:
        self.other_hosts = other_hosts
        self._routes: list[tuple[Pattern[str], VendorApp]] = []

    def start(self) -> None:
        """Patch ``HTTPAdapter.send`` (once for all started interceptors); this one answers from now on."""
        global _original  # noqa: PLW0603 - the one patch all interceptors share
        with _LOCK:
            if self in _ACTIVE:
                return
            self._routes = []
            current = vars(HTTPAdapter)["send"]
            if current is not send:
                _original = current
                HTTPAdapter.send = send  # type: ignore[method-assign, assignment]
            _ACTIVE.append(self)

    def route(self, host: str, vendor_app: VendorApp) -> None:
        """Answer every method on ``host`` (``*.example.com``: any subdomain) with the vendor's engine."""
        pattern = _PATTERNS.get(host)
        if pattern is None:
            pattern = _PATTERNS.setdefault(host, url_pattern(host))
        self._routes = [*self._routes, (pattern, vendor_app)]  # a new list: a request may be reading it

    def stop(self) -> None:
        """Stop answering; the original ``send`` is back once no interceptor is started."""
        with _LOCK:
            if self not in _ACTIVE:
                return
            _ACTIVE.remove(self)
            self._routes = []
            if not _ACTIVE and vars(HTTPAdapter)["send"] is send:
                HTTPAdapter.send = _original  # type: ignore[method-assign]
            # else another patch was put over this one and is still there: send hands every request to
            # the original while no interceptor is started

    def vendor_for(self, url: str) -> VendorApp | None:
        """The engine that answers ``url`` (the first route that matches), or None."""
        for pattern, vendor_app in self._routes:
            if pattern.match(url):
                return vendor_app
        return None


def send(  # noqa: PLR0917 - HTTPAdapter.send's own signature: custom adapters pass them by position
    adapter: HTTPAdapter,
    request: requests.PreparedRequest,
    stream: bool = False,
    timeout: Any = None,
    verify: Any = True,
    cert: Any = None,
    proxies: Any = None,
) -> requests.Response:
    """``HTTPAdapter.send`` while a mock is active: the vendor's engine for a routed host, the original
    ``send`` for another host if other hosts are allowed, else ``requests.ConnectionError``."""
    active = _ACTIVE
    interceptor = active[-1] if active else None
    if interceptor is not None:
        url = request.url or ""
        vendor_app = interceptor.vendor_for(url)
        if vendor_app is not None:
            return _answer(adapter, request, vendor_app, timeout)
        if interceptor.other_hosts != "allow":
            raise requests.ConnectionError(refusal(urlsplit(url).hostname or url), request=request)
    return _original(
        adapter, request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
    )


def _answer(
    adapter: HTTPAdapter, request: requests.PreparedRequest, vendor_app: VendorApp, timeout: Any
) -> requests.Response:
    """The engine's response, asked again while the adapter's retries say so (as urllib3 would)."""
    retries = adapter.max_retries
    while True:
        response = _respond(adapter, request, vendor_app, timeout)
        method = request.method or "GET"
        if not retries.is_retry(method, response.status_code, bool(response.headers.get("Retry-After"))):
            return response
        try:
            retries = retries.increment(method, request.url, response=response.raw)
        except MaxRetryError as exhausted:
            if retries.raise_on_status:  # what HTTPAdapter.send raises for urllib3's ResponseError
                raise requests.exceptions.RetryError(exhausted, request=request) from None
            return response


def _respond(
    adapter: HTTPAdapter, request: requests.PreparedRequest, vendor_app: VendorApp, timeout: Any
) -> requests.Response:
    scope = scope_for_url(request.method or "GET", request.url or "", request.headers.items())
    if isinstance(timeout, urllib3.Timeout):
        timeout = timeout.read_timeout
    result = answer(vendor_app, scope, read_timeout(timeout), request_body(request.body))
    if result.wait:
        time.sleep(result.wait)
    if result.timed_out:
        raise requests.exceptions.ReadTimeout(TIMEOUT_MESSAGE, request=request)
    if result.cut:  # what requests raises when urllib3 reads fewer bytes than Content-Length promised
        raise requests.exceptions.ChunkedEncodingError(result.cut_message, request=request)
    headers = urllib3.HTTPHeaderDict(result.headers)
    raw = urllib3.HTTPResponse(
        body=io.BytesIO(result.body),
        headers=headers,
        status=result.status,
        version=11,
        version_string="HTTP/1.1",
        reason=http.client.responses.get(result.status),
        preload_content=False,  # read when requests reads it: at once, or as streamed with stream=True
        original_response=cast(Any, _Received(headers)),
        request_method=request.method,
        request_url=request.url,
    )
    return adapter.build_response(request, raw)


class _Received:
    """What urllib3 keeps of ``http.client``'s response: the headers requests reads ``Set-Cookie`` from
    (``msg``), and a connection that is closed already."""

    def __init__(self, msg: urllib3.HTTPHeaderDict) -> None:
        self.msg = msg

    def isclosed(self) -> bool:
        """Always: nothing is left to read from a socket."""
        return True

    def close(self) -> None:
        """Nothing to close."""


def request_body(body: object) -> bytes:
    """The request body as the engine reads it: bytes or text as sent; a file or an iterable of chunks
    read up to one byte past the write budget (a write refuses it then)."""
    if body is None or isinstance(body, bytes | bytearray | str):
        return body_bytes(body)
    read = getattr(body, "read", None)
    if callable(read):
        return body_bytes(read(MAX_BODY_BYTES + 1))
    if isinstance(body, Iterable):
        chunks: list[bytes] = []
        size = 0
        for chunk in body:
            chunks.append(body_bytes(chunk))
            size += len(chunks[-1])
            if size > MAX_BODY_BYTES:
                break
        return b"".join(chunks)[: MAX_BODY_BYTES + 1]
    return b""
