"""A last line of defence: while the in-process mock is active, no socket reaches a vendor host.

httpx, ``requests`` and aiohttp are answered before they open a socket. Any other client (urllib,
urllib3, http.client, a raw socket, or ``requests`` without the ``[requests]`` extra) would resolve the
vendor's host name and connect to production. This guard wraps name resolution and ``connect`` so that
such a request fails at once with :class:`VendorHostNotInterceptedError`, which says what to do.

The socket module is process-wide, so the patch is too: it is installed when the first guard starts and
removed when the last one stops; nested and concurrent mocks each add their own hosts.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

from mockserver.engine.routing import HostTable

_LOCK = threading.Lock()
_ACTIVE: list[SocketGuard] = []
_ORIGINALS: dict[str, Any] = {}
# Each wrapper made, by name: (the original it wraps, the wrapper). A test after a test installs the same
# wrappers again rather than new ones (while nobody else has replaced the original meanwhile).
_WRAPPERS: dict[str, tuple[Any, Callable[..., Any]]] = {}
_MODULE_FUNCTIONS = ("getaddrinfo", "gethostbyname", "gethostbyname_ex")
_SOCKET_METHODS = ("connect", "connect_ex")


class VendorHostNotInterceptedError(ConnectionRefusedError):
    """A request to an emulated vendor's host came through a client the in-process mock does not answer."""


class SocketGuard:
    """Refuses name resolution of, and connections to, the hosts it is given while it is started."""

    def __init__(self, intercepted: Iterable[str]) -> None:
        self.intercepted = tuple(intercepted)
        self._hosts: HostTable[bool] = HostTable()
        self._declared: set[str] = set()

    def block(self, host: str) -> None:
        """Refuse this declared host (``*.example.com`` covers its subdomains); again, it changes nothing."""
        if host not in self._declared:
            self._declared.add(host)
            self._hosts.add(host, True)

    def blocks(self, host: object) -> bool:
        """Whether ``host`` (a name from a resolver or an address tuple) is refused."""
        if not isinstance(host, str | bytes):
            return False
        return (host.decode("ascii", "replace") if isinstance(host, bytes) else host) in self._hosts

    def error(self, host: object, via: str) -> VendorHostNotInterceptedError:
        """The error that says which request was stopped and how to make it reach the emulator."""
        name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
        clients = ", ".join(self.intercepted)
        return VendorHostNotInterceptedError(
            f"vendor-emulator refused a connection to {name} ({via}): it is an emulated vendor's host, "
            f"but this request did not come through a client the in-process mock answers ({clients}). "
            "Send it with one of those clients (for requests or aiohttp, install vendor-emulator[requests] "
            "or vendor-emulator[aiohttp]), or run `vendor-emulator serve` and point this client's base URL "
            "at it. The request did not leave the process."
        )

    def start(self) -> None:
        """Start refusing (installs the process-wide patch if this is the first guard)."""
        with _LOCK:
            if not _ACTIVE:
                _install()
            _ACTIVE.append(self)

    def stop(self) -> None:
        """Stop refusing (removes the patch when no guard is left)."""
        with _LOCK:
            if self in _ACTIVE:
                _ACTIVE.remove(self)
            if not _ACTIVE:
                _uninstall()


def _refusal(host: object, via: str) -> VendorHostNotInterceptedError | None:
    for guard in _ACTIVE.copy():  # a copy: another thread may stop its guard meanwhile
        if guard.blocks(host):
            return guard.error(host, via)
    return None


def _guarded_function(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(host: object, *args: Any, **kwargs: Any) -> Any:
        refusal = _refusal(host, f"socket.{name}")
        if refusal is not None:
            raise refusal
        return original(host, *args, **kwargs)

    guarded.__wrapped__ = original  # type: ignore[attr-defined]
    return guarded


def _guarded_method(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(sock: socket.socket, address: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(address, tuple) and address:
            refusal = _refusal(address[0], f"socket.{name}")
            if refusal is not None:
                raise refusal
        return original(sock, address, *args, **kwargs)

    guarded.__wrapped__ = original  # type: ignore[attr-defined]
    return guarded


def _install() -> None:
    for name in _MODULE_FUNCTIONS:
        _ORIGINALS[name] = getattr(socket, name)
        setattr(socket, name, _wrapper(name, _ORIGINALS[name], _guarded_function))
    for name in _SOCKET_METHODS:
        # connect and connect_ex are inherited from _socket.socket: remember whether to restore or delete.
        _ORIGINALS[f"own.{name}"] = name in vars(socket.socket)
        key = f"socket.{name}"
        _ORIGINALS[key] = getattr(socket.socket, name)
        setattr(socket.socket, name, _wrapper(key, _ORIGINALS[key], _guarded_method))


def _wrapper(
    key: str, original: Any, make: Callable[[str, Callable[..., Any]], Callable[..., Any]]
) -> Callable[..., Any]:
    """The guarded version of ``original``: the one made last time if it wraps the same original."""
    made = _WRAPPERS.get(key)
    if made is None or made[0] is not original:
        made = _WRAPPERS[key] = (original, make(key.rpartition(".")[2], original))
    return made[1]


def _uninstall() -> None:
    for name in _MODULE_FUNCTIONS:
        if name in _ORIGINALS:
            setattr(socket, name, _ORIGINALS.pop(name))
    for name in _SOCKET_METHODS:
        key = f"socket.{name}"
        if key not in _ORIGINALS:
            continue
        original = _ORIGINALS.pop(key)
        if _ORIGINALS.pop(f"own.{name}"):
            setattr(socket.socket, name, original)
        else:
            delattr(socket.socket, name)
