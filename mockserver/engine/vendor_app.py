"""The ASGI app of one vendor: the request pipeline around the engine.

Per request: route, authenticate (against the keys the vendor's Tenancy holds), rate limits, faults,
the endpoint's answer, the journal. The keys, tenants, resets and switches themselves are the
control plane's (engine/tenancy.py); this module only reads them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace

import orjson
from starlette.types import Receive, Scope, Send

from mockserver.declarations.model import VendorSpec
from mockserver.engine.answer_cache import AnswerCache
from mockserver.engine.pipeline import (
    ALLOW,
    ALLOWED_METHODS,
    OPENAPI_PATH,
    Endpoint,
    ErrorRenderer,
    Reply,
    request_headers,
    route_path,
)
from mockserver.engine.routing import HOST_HEADER, served_host
from mockserver.engine.tenancy import Tenancy
from mockserver.engine.writes import MAX_BODY_BYTES, WriteCall, Writes
from mockserver.kinds.auth import Credential, Denied
from mockserver.kinds.cursors import CursorCodec
from mockserver.limits import DEFAULT_LIMITS, Limits
from mockserver.state.backends import InMemory, SharedState, StateUnavailable
from mockserver.state.datasets import VendorDatasets
from mockserver.state.fault_store import Faults
from mockserver.state.faults import Fault, FaultIds, combined, preferred
from mockserver.state.journal import Journal
from mockserver.state.rate_limiter import RateLimiter, Verdict

logger = logging.getLogger("mockserver")
ENCODED_CACHE_SIZE = 4096
RequestLog = Callable[[Scope, int, float], None]  # (scope, status, seconds): one request-log line


class VendorApp:
    """One vendor, served: its endpoints, OpenAPI document and error shapes (its controls: ``tenancy``)."""

    def __init__(
        self,
        spec: VendorSpec,
        datasets: VendorDatasets,
        codec: CursorCodec,
        journal: Journal,
        credentials: tuple[Credential, ...] = (),
        *,
        rate_limits: bool = False,
        clock: Callable[[], float] = time.monotonic,
        cache: AnswerCache | None = None,
        limits: Limits = DEFAULT_LIMITS,
        shared: SharedState | None = None,
        limiter: RateLimiter | None = None,
        fault_ids: FaultIds | None = None,
    ) -> None:
        self.spec = spec
        self.limits = limits
        self.cache = cache if cache is not None else AnswerCache(limits.answer_cache_bytes)
        self.datasets = datasets
        self.journal = journal
        shared = shared or InMemory()
        self.faults = Faults(limits.max_faults, spec.id, shared, fault_ids)
        if limiter is None and spec.rate_limits:
            limiter = RateLimiter.from_declaration(spec.rate_limits, clock)
        self.limiter = limiter
        self.tenancy = Tenancy(
            spec, datasets=datasets, journal=journal, faults=self.faults, cache=self.cache, limiter=limiter,
            shared=shared, limits=limits, credentials=credentials, rate_limits=rate_limits,
        )  # fmt: skip
        self.endpoints = {
            endpoint.path: Endpoint(spec, endpoint, datasets, codec, self.cache)
            for endpoint in spec.endpoints
        }
        self.errors = ErrorRenderer(spec)
        every_tenant = limits.max_tenants + len(self.tenancy.builtin_tenants)
        self.writes = Writes(spec, datasets, self.errors, max_tenants=every_tenant)
        self.tenancy.forgetters.append(self.writes.forget)
        self.content_type = spec.content_type
        self.secret_headers = frozenset({(spec.auth.header or "Authorization").lower().encode("latin-1")})
        names = [spec.auth.header or "Authorization", spec.auth.tenant_header or "", "prefer", "host"]
        self._encoded: dict[tuple[object, ...], list[tuple[bytes, bytes]]] = {}
        self.read_headers = frozenset(name.lower().encode("latin-1") for name in names if name)
        self.request_log: RequestLog | None = None  # set by the request-log middleware of `serve`

    def reply(self, scope: Scope, body: bytes = b"") -> Reply:
        """The response to one request, journaled; a bug becomes the vendor's 500 (logged), no traceback.

        While an inspector is watching (``Journal.watching``), the journal also gets the latency, the
        fault and the response body; otherwise nothing is measured or kept beyond what it always had.
        """
        watching = self.journal.watching
        started = time.perf_counter() if watching else 0.0
        path = route_path(scope)
        tenant: str | None = None
        fault: Fault | None = None
        try:
            reply, tenant, fault = self._reply(scope, path, body)
        except StateUnavailable:  # a shared countdown or window could not be consulted
            logger.warning("%s: shared state unavailable on %s %s", self.spec.id, scope["method"], path)
            reply = self.errors.fault(503, method=scope["method"], path=path, route=path.lstrip("/"))
        except Exception:
            logger.exception("%s: unexpected error on %s %s", self.spec.id, scope["method"], scope["path"])
            reply = self.errors.render("server_error")
        if path == OPENAPI_PATH:
            return reply
        if not watching:
            self.journal.record(
                self.spec.id,
                tenant,
                scope,
                path=path,
                status=reply.status,
                secret_headers=self.secret_headers,
                request=body,
            )
            return reply
        self.journal.record(
            self.spec.id,
            tenant,
            scope,
            path=path,
            status=reply.status,
            secret_headers=self.secret_headers,
            latency=time.perf_counter() - started + reply.delay,
            fault=fault,
            response=reply.body,
            response_type=reply.content_type,
            request=body,
        )
        return reply

    def _route(self, scope: Scope, path: str) -> Endpoint | WriteCall | Reply:
        """The endpoint a request is for, or the reply that ends it before authentication."""
        method: str = scope["method"]
        if path == OPENAPI_PATH and method in ALLOWED_METHODS:
            return self._openapi(scope)
        endpoint = self.endpoints.get(path)
        details = {"method": method, "path": path, "route": path.lstrip("/")}
        if endpoint is None:
            return self._route_write(method, path, details)
        if method == "OPTIONS":
            return Reply(204, b"", (("allow", ALLOW),))
        if method not in ALLOWED_METHODS:
            reply = self.errors.render("method_not_allowed", allowed=ALLOW, **details)
            return replace(reply, headers=(*reply.headers, ("allow", ALLOW)))
        return endpoint

    def _route_write(self, method: str, path: str, details: dict[str, str]) -> WriteCall | Reply:
        write = self.writes.route(method, path) if self.writes.routes else None
        if write is None:
            return self.errors.render("not_found", **details)
        if isinstance(write, WriteCall):
            return write
        allow = ", ".join([*write, "OPTIONS"])
        if method == "OPTIONS":
            return Reply(204, b"", (("allow", allow),))
        reply = self.errors.render("method_not_allowed", allowed=allow, **details)
        return replace(reply, headers=(*reply.headers, ("allow", allow)))

    def _reply(self, scope: Scope, path: str, body: bytes = b"") -> tuple[Reply, str | None, Fault | None]:
        endpoint = self._route(scope, path)
        if isinstance(endpoint, Reply):
            return endpoint, None, None
        headers = request_headers(scope, self.read_headers)
        who = self.tenancy.authenticator.authenticate(headers)
        if isinstance(who, Denied):
            details = {"method": scope["method"], "path": path, "route": path.lstrip("/")}
            return self.errors.render(who.refusal.value, header=who.header, **details), None, None
        verdict = self.limiter.check(who.tenant) if self.limiter and self.tenancy.rate_limits else None
        if verdict is not None and not verdict.allowed:
            return self.errors.render("rate_limited", **self._limit_variables(verdict)), who.tenant, None
        fault = combined(preferred(headers), self.faults.take(who.tenant, path))
        if fault.status is not None:
            details = {"method": scope["method"], "path": path, "route": path.lstrip("/")}
            reply = self.errors.fault(fault.status, **details, **self._limit_variables(verdict))
        elif isinstance(endpoint, WriteCall):
            reply = self.writes.answer(who.tenant, endpoint, scope["query_string"], body)
        else:
            self.writes.expire(who.tenant)  # a dictionary look-up unless a release is due
            reply = endpoint.answer(who, scope["query_string"])
        if verdict is None and not fault.delay:
            return reply, who.tenant, fault
        limited = (*reply.headers, *self._limit_headers(verdict))
        return replace(reply, headers=limited, delay=fault.delay), who.tenant, fault

    def _limit_variables(self, verdict: Verdict | None) -> dict[str, int]:
        if verdict is None:  # an injected 429: as if the first documented window were exhausted
            limits = self.spec.rate_limits
            return {
                "retry_after": 60,
                "limit": limits["windows"][0]["requests"] if limits else 0,
                "remaining": 0,
                "reset": int(time.time()) + 60,
            }
        return {
            "retry_after": verdict.retry_after or 60,
            "limit": verdict.limit,
            "remaining": verdict.remaining,
            "reset": verdict.reset,
        }

    def _limit_headers(self, verdict: Verdict | None) -> tuple[tuple[str, str], ...]:
        names = self.spec.rate_limits.get("headers") if self.spec.rate_limits else None
        if verdict is None or not names:
            return ()
        values = {"limit": verdict.limit, "remaining": verdict.remaining, "reset": verdict.reset}
        return tuple((str(header), str(values[key])) for key, header in names.items())

    def _openapi(self, scope: Scope) -> Reply:
        host = served_host(request_headers(scope, HOST_HEADER).get("host"))
        base = f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}"
        document = dict(self.spec.openapi)
        declared = self.spec.openapi.get("servers")
        document["servers"] = [
            {"url": base, "description": "this emulator"},
            *(declared if isinstance(declared, list) else []),
        ]
        return Reply(200, orjson.dumps(document), content_type="application/json")

    def raw_headers(self, reply: Reply) -> list[tuple[bytes, bytes]]:
        """The response headers of a reply, as ASGI and the in-process transport both send them.

        Replies are cached and immutable, so their encoded headers are too (a bounded cache).
        """
        key = (reply.status, reply.content_type, len(reply.body), reply.headers)  # never the body itself
        encoded = self._encoded.get(key)
        if encoded is None:
            encoded = self._encode_headers(reply)
            if len(self._encoded) >= ENCODED_CACHE_SIZE:
                self._encoded.clear()
            self._encoded[key] = encoded
        return encoded

    def _encode_headers(self, reply: Reply) -> list[tuple[bytes, bytes]]:
        extra = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in reply.headers]
        if reply.status == 204:
            return extra
        return [
            (b"content-type", (reply.content_type or self.content_type).encode("latin-1")),
            (b"content-length", str(len(reply.body)).encode("latin-1")),
            *extra,
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        reads_body = scope["method"] not in ("GET", "HEAD") and self.writes.routes
        if reads_body:  # a write may wait for the shared lock and other workers: not on the event loop
            reply = await asyncio.to_thread(self.reply, scope, await _read_body(receive))
        else:
            reply = self.reply(scope)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        await send(
            {"type": "http.response.start", "status": reply.status, "headers": self.raw_headers(reply)}
        )
        body = reply.body_for(scope["method"])
        await send({"type": "http.response.body", "body": body})
        if self.request_log is not None:  # logged here: no wrapper around send on the hot path
            self.request_log(scope, reply.status, time.perf_counter() - started)


async def _read_body(receive: Receive) -> bytes:
    """The request body, read up to one byte past the write budget (the write refuses it then)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        if size <= MAX_BODY_BYTES:
            chunks.append(chunk[: MAX_BODY_BYTES + 1 - size])
            size += len(chunks[-1])
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
