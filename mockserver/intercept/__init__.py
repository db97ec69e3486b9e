"""In-process interception of every supported Python HTTP client, and a guard for the rest.

| client | through | needs |
|---|---|---|
| httpx (``Client``, ``AsyncClient``) | respx | nothing extra |
| ``requests`` (``Session``, adapters, streaming) | responses | ``vendor-emulator[requests]`` |
| aiohttp (``ClientSession``) | aioresponses | ``vendor-emulator[aiohttp]`` |

Anything else that tries to reach a vendor host (urllib, urllib3, http.client, raw sockets) is stopped by
:class:`~mockserver.intercept.guard.SocketGuard` with an error saying what to do.

Layer 8: imports the engine and below; one adapter (``exchange``) turns the engine's reply into what each
client kit builds its response from.
"""

from __future__ import annotations

import functools
from importlib.util import find_spec

from mockserver.intercept.base import Interceptor, OtherHosts
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


def available_interceptors(other_hosts: OtherHosts) -> list[Interceptor]:
    """One interceptor per supported client whose libraries are installed (httpx always is)."""
    from mockserver.intercept.httpx_kit import HttpxInterceptor  # noqa: PLC0415 - import cost on use

    found: list[Interceptor] = [HttpxInterceptor(other_hosts)]
    if _installed("requests") and _installed("responses"):
        from mockserver.intercept.requests_kit import RequestsInterceptor  # noqa: PLC0415

        found.append(RequestsInterceptor(other_hosts))
    if _installed("aiohttp") and _installed("aioresponses"):
        from mockserver.intercept.aiohttp_kit import AiohttpInterceptor  # noqa: PLC0415

        found.append(AiohttpInterceptor(other_hosts))
    return found
