"""In-process interception of every supported Python HTTP client, and a guard for the rest.

| client | through | needs |
|---|---|---|
| httpx (``Client``, ``AsyncClient``) | respx | nothing extra |
| ``requests`` (``Session``, adapters, streaming) | ``HTTPAdapter.send`` | ``vendor-emulator[requests]`` |
| aiohttp (``ClientSession``) | aioresponses | ``vendor-emulator[aiohttp]`` |

Anything else that tries to reach a vendor host (urllib, urllib3, http.client, raw sockets) is stopped by
:class:`~mockserver.intercept.guard.SocketGuard` with an error saying what to do.

A client is imported and patched only if the process imports it: one imported while a mock is active is
intercepted from the end of its import (:mod:`mockserver.intercept.deferred`).

Layer 8: imports the engine and below; one adapter (``exchange``) turns the engine's reply into what each
client kit builds its response from.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from importlib.util import find_spec

from mockserver.intercept.base import Interceptor, OtherHosts
from mockserver.intercept.deferred import DeferredInterceptor
from mockserver.intercept.guard import SocketGuard, VendorHostNotInterceptedError

__all__ = [
    "Interceptor",
    "OtherHosts",
    "SocketGuard",
    "VendorHostNotInterceptedError",
    "available_interceptors",
]


@functools.cache
def _installed(module: str) -> bool:
    return find_spec(module) is not None


def _httpx(other_hosts: OtherHosts) -> Interceptor:
    from mockserver.intercept.httpx_kit import HttpxInterceptor  # noqa: PLC0415 - imported on use

    return HttpxInterceptor(other_hosts)


def _requests(other_hosts: OtherHosts) -> Interceptor:
    from mockserver.intercept.requests_kit import RequestsInterceptor  # noqa: PLC0415

    return RequestsInterceptor(other_hosts)


def _aiohttp(other_hosts: OtherHosts) -> Interceptor:
    from mockserver.intercept.aiohttp_kit import AiohttpInterceptor  # noqa: PLC0415

    return AiohttpInterceptor(other_hosts)


# client, its top-level module and its mocking library's if it has one (all must be installed), the
# interceptor
KITS: tuple[tuple[str, tuple[str, ...], Callable[[OtherHosts], Interceptor]], ...] = (
    ("httpx", ("httpx", "respx"), _httpx),
    ("requests", ("requests",), _requests),
    ("aiohttp", ("aiohttp", "aioresponses"), _aiohttp),
)


def available_interceptors(other_hosts: OtherHosts) -> list[Interceptor]:
    """One interceptor per supported client whose libraries are installed (httpx always is).

    Each intercepts its client from the moment it starts if the process has imported the client, else
    from the end of the client's import (:mod:`mockserver.intercept.deferred`): a client the process never
    imports is neither imported nor patched.
    """
    return [
        DeferredInterceptor(client, modules, build, other_hosts)
        for client, modules, build in KITS
        if all(_installed(module) for module in modules)
    ]
