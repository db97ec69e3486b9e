"""Opaque, tamper-evident, stateless cursors for cursor-paginated endpoints.

A cursor is ``base64url(payload) . base64url(hmac)``. The payload names the last record listed
(``{"id": ...}``, so a cursor starts with ``eyJpZ`` like the vendor's documented example) and a
digest of the *scope* it was issued for: vendor, endpoint, tenant, filters and order. Any replica
configured with the same secret can continue a listing; a cursor that was altered, or replayed with
other filters or by another tenant, is rejected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

import orjson

MAC_BYTES = 16
BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    """Strict base64url: the canonical, unpadded form only (no '=', '+', '/' or stray characters)."""
    if BASE64URL.fullmatch(text) is None:
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _encode(data) != text:
        raise ValueError("not canonical")
    return data


SCOPE_SEPARATOR = "/"


def scope_digest(*parts: Any) -> str:
    """A short, stable digest of what a cursor is bound to."""
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def cursor_scope(owner: tuple[Any, ...], query: tuple[Any, ...]) -> str:
    """A scope in two parts, so that a refused cursor says whether its owner or its query differs."""
    return f"{scope_digest(*owner)}{SCOPE_SEPARATOR}{scope_digest(*query)}"


@dataclass(frozen=True)
class CursorProblem:
    """Why a cursor was refused, in words a client developer can act on."""

    reason: str


class CursorCodec:
    """Issues and reads cursors with one secret."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode("utf-8")

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:MAC_BYTES]

    def issue(self, last_id: Any, scope: str) -> str:
        """A cursor that continues after the record whose key is ``last_id``."""
        payload = orjson.dumps({"id": last_id, "scope": scope})
        return f"{_encode(payload)}.{_encode(self._mac(payload))}"

    def read(self, cursor: str, scope: str) -> Any:
        """The ``last_id`` a cursor carries, or the CursorProblem that makes it unusable."""
        encoded_payload, dot, encoded_mac = cursor.partition(".")
        try:
            payload, mac = _decode(encoded_payload), _decode(encoded_mac)
        except (binascii.Error, ValueError):
            payload, mac = b"", b""
        if not dot or not hmac.compare_digest(mac, self._mac(payload)):
            return CursorProblem("the cursor is malformed or was not issued by this server")
        body = _payload(payload)
        if body is None:
            return CursorProblem("the cursor is malformed or was not issued by this server")
        if not _same(body["scope"], scope):
            return CursorProblem(_mismatch(body["scope"], scope))
        return body["id"]


def _same(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode("utf-8"), right.encode("utf-8"))


def _mismatch(issued: str, wanted: str) -> str:
    """Which half of a two-part scope (``owner/query``, see :func:`cursor_scope`) a cursor misses."""
    issued_owner, _, _ = issued.partition(SCOPE_SEPARATOR)
    wanted_owner, _, _ = wanted.partition(SCOPE_SEPARATOR)
    if not _same(issued_owner, wanted_owner):
        return "the cursor was issued to another tenant (organization or API key); restart the listing"
    return (
        "the cursor was issued for other filters or another order: send it with the same query "
        "parameters as the request that returned it (only the page size may change), or restart the listing"
    )


def _payload(payload: bytes) -> dict[str, Any] | None:
    """The payload if it is the object this codec writes; anyone who knows the secret can sign anything."""
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("scope"), str):
        return None
    identifier = body.get("id")
    if isinstance(identifier, bool) or not isinstance(identifier, str | int):
        return None
    return body
