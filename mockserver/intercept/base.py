"""What every client interceptor offers: start, route a vendor's hosts to its engine, stop."""

from __future__ import annotations

from typing import Literal, Protocol

from mockserver.engine.vendor_app import VendorApp

OtherHosts = Literal["refuse", "allow"]


class Interceptor(Protocol):
    """Answers one HTTP client library's requests for routed hosts in-process."""

    client: str
    """The library it intercepts, as users name it (``httpx``, ``requests``, ``aiohttp``)."""

    def start(self) -> None:
        """Begin intercepting: routed hosts are answered; other hosts refused or passed through."""

    def route(self, host: str, vendor_app: VendorApp) -> None:
        """Answer requests for ``host`` (``*.example.com`` for any subdomain) with ``vendor_app``."""

    def stop(self) -> None:
        """Stop intercepting; the library behaves as before."""
