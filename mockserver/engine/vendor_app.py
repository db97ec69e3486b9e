"""The ASGI app of one vendor: the request pipeline around the engine.

Per request: route, authenticate (against the keys the vendor's Tenancy holds), rate limits, faults,
the endpoint's answer, the journal; drifts (:mod:`mockserver.drifts`) change the request and its answer
when one is on (a drift rule, ``serve --drift`` or ``Prefer: drift=``), and cost an empty check otherwise.
The keys, tenants, resets and switches themselves are the control plane's (engine/tenancy.py); this
module only reads them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import orjson
from starlette.types import Receive, Scope, Send

from mockserver.declarations.model import VendorSpec
from mockserver.documents.schemas import SchemaStore
from mockserver.engine.answer_cache import AnswerCache
from mockserver.engine.pipeline import (
    ALLOW,
    ALLOWED_METHODS,
    OPENAPI_PATH,
    Endpoint,
    ErrorRenderer,
    Reply,
    named_headers,
    request_headers,
    route_path,
)
from mockserver.engine.routing import HOST_HEADER, served_host
from mockserver.engine.tenancy import Tenancy
from mockserver.engine.writes import MAX_BODY_BYTES, WriteCall, Writes
from mockserver.kinds.auth import Credential, Denied, Principal
from mockserver.kinds.cursors import CursorCodec
from mockserver.limits import DEFAULT_LIMITS, Limits
from mockserver.state.backends import InMemory, SharedState, StateUnavailable
from mockserver.state.datasets import VendorDatasets
from mockserver.state.fault_store import Faults
from mockserver.state.faults import NO_FAULT, Fault, FaultIds, FaultRule, combined, preferred
from mockserver.state.journal import Journal
from mockserver.state.rate_limiter import RateLimiter, Verdict

if TYPE_CHECKING:  # the drifts are imported on a vendor's first drift: plain requests never need them
    from mockserver.drifts import DriftUse, Exchange, VendorDrifts
    from mockserver.drifts.catalogue import Bound

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
        store: SchemaStore | None = None,
    ) -> None:
        self.spec = spec
        self._store = store
        # serve --drift: drift rules for every tenant while the server runs (not reset, not shared)
        self.standing_drifts: tuple[FaultRule, ...] = ()
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
        self._last_encoded: tuple[Reply | None, list[tuple[bytes, bytes]]] = (None, [])
        self.read_headers = frozenset(name.lower().encode("latin-1") for name in names if name)
        self._read_names = {name: name.decode("latin-1") for name in self.read_headers}
        self.request_log: RequestLog | None = None  # set by the request-log middleware of `serve`

    @cached_property
    def drifts(self) -> VendorDrifts:
        """The drifts that apply to this vendor (built when first asked: no cost while none is used)."""
        from mockserver.drifts import VendorDrifts, vendor_view  # noqa: PLC0415 - see the imports

        store = self._store if self._store is not None else SchemaStore(self.spec.source.parent.parent)
        return VendorDrifts(vendor_view(self.spec, store))

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
                drifts=() if fault is None or not fault.drifts else _drift_ids(fault),
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
            drifts=_drift_ids(fault),
        )
        return reply

    def _route(self, scope: Scope, path: str) -> Endpoint | WriteCall | Reply:
        """The endpoint a request is for, or the reply that ends it before authentication."""
        method: str = scope["method"]
        endpoint = self.endpoints.get(path)
        if endpoint is not None and method in ALLOWED_METHODS and path != OPENAPI_PATH:
            return endpoint  # the usual case, decided before anything is built for a refusal
        if path == OPENAPI_PATH and method in ALLOWED_METHODS:
            return self._openapi(scope)
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
        headers = named_headers(scope, self._read_names)
        prefer = headers.get("prefer")
        asked: list[DriftUse] = []
        early: list[Bound] = []
        if self.faults.drifting or self.standing_drifts or (prefer and "drift" in prefer):
            from mockserver.drifts import preferred_drifts  # noqa: PLC0415 - see the imports

            asked = preferred_drifts(prefer) if prefer and "drift" in prefer else []
            early = self._early_drifts(path, asked)
            if early:
                headers = self.drifts.auth_headers(early, request_headers(scope))
        who = self.tenancy.authenticator.authenticate(headers)
        if isinstance(who, Denied):
            details = {"method": scope["method"], "path": path, "route": path.lstrip("/")}
            refusal = self.errors.render(who.refusal.value, header=who.header, **details)
            return (self._refused(refusal, early, scope) if early else refusal), None, _drifted(early)
        verdict = self.limiter.check(who.tenant) if self.limiter and self.tenancy.rate_limits else None
        if verdict is not None and not verdict.allowed:
            return self.errors.render("rate_limited", **self._limit_variables(verdict)), who.tenant, None
        planned = self.faults.take(who.tenant, path)
        fault = combined(preferred(headers), planned) if prefer or planned else NO_FAULT
        if fault.drifts or asked or self.standing_drifts:
            return self._drift(scope, path, body, who, endpoint, fault=fault, verdict=verdict, asked=asked)
        reply = self._answer(
            scope, path, body, who, endpoint, fault=fault, verdict=verdict, query=scope["query_string"]
        )
        return reply, who.tenant, fault

    def _answer(
        self,
        scope: Scope,
        path: str,
        body: bytes,
        who: Principal,
        endpoint: Endpoint | WriteCall,
        *,
        fault: Fault,
        verdict: Verdict | None,
        query: bytes,
        cached: bool = True,
    ) -> Reply:
        """The endpoint's answer to ``query`` (from the answer cache if ``cached``), or the fault's status;
        the rate-limit headers and the fault's delay added."""
        if fault.status is not None:
            details = {"method": scope["method"], "path": path, "route": path.lstrip("/")}
            reply = self.errors.fault(fault.status, **details, **self._limit_variables(verdict))
        elif isinstance(endpoint, WriteCall):
            reply = self.writes.answer(who.tenant, endpoint, query, body)
        else:
            self.writes.expire(who.tenant)  # a dictionary look-up unless a release is due
            reply = endpoint.answer(who, query, use_cache=cached)
        if verdict is None and not fault.delay:
            return reply
        limited = (*reply.headers, *self._limit_headers(verdict))
        return replace(reply, headers=limited, delay=fault.delay)

    # ------------------------------------------------------------------ drifts, see mockserver.drifts

    def add_drift(
        self,
        drift: str,
        params: dict[str, Any] | None = None,
        *,
        endpoint: str | None = None,
        times: int | None = None,
        probability: float | None = None,
        tenant: str | None = None,
    ) -> FaultRule:
        """Switch a drift on: a drift rule in the fault-rule store (tenant scope, cap, ``times``, sharing and
        --state-dir as faults). DriftError (a ValueError) names what is allowed; FaultLimitError at the cap.
        """
        checked = self.drifts.check(drift, params, endpoint)
        rule = FaultRule(
            remaining=times, path=endpoint, tenant=tenant, drift=drift, params=checked,
            probability=probability,
        )  # fmt: skip
        return self.faults.add(rule)

    def _early_drifts(self, path: str, asked: list[DriftUse]) -> list[Bound]:
        """The drifts acting before authentication: asked for, standing, or rules for every tenant."""
        rules = self.faults.drift_rules(None, path)
        if not (asked or rules or self.standing_drifts):
            return []
        uses = [*self._standing(path), *(rule.drift_use() for rule in rules), *asked]
        return self.drifts.auth_stage(use for use in uses if use is not None)

    def _standing(self, path: str) -> list[DriftUse]:
        """The standing drifts (serve --drift) that cover a request to ``path``."""
        return [
            use
            for rule in self.standing_drifts
            if rule.applies(None, path) and rule.draws() and (use := rule.drift_use()) is not None
        ]

    def _refused(self, reply: Reply, early: list[Bound], scope: Scope) -> Reply:
        exchange = self._exchange(reply, scope)
        self.drifts.refused(early, exchange)
        return self._drifted_reply(exchange)

    def _drift(
        self,
        scope: Scope,
        path: str,
        body: bytes,
        who: Principal,
        endpoint: Endpoint | WriteCall,
        *,
        fault: Fault,
        verdict: Verdict | None,
        asked: list[DriftUse],
    ) -> tuple[Reply, str | None, Fault | None]:
        """A request with drifts: the query they change answered afresh (never from or into the answer
        cache), then the answer they change; the journal names the drifts that applied."""
        active = self.drifts.active((*self._standing(path), *fault.drifts, *asked), path)
        query = self.drifts.request(active, scope["query_string"]) if active else scope["query_string"]
        reply = self._answer(
            scope, path, body, who, endpoint, fault=fault, verdict=verdict, query=query, cached=not active
        )
        if not active:
            return reply, who.tenant, replace(fault, drifts=())
        exchange = self._exchange(reply, scope)
        self.drifts.respond(active, exchange)
        return self._drifted_reply(exchange), who.tenant, replace(fault, drifts=_uses(active))

    def _exchange(self, reply: Reply, scope: Scope) -> Exchange:
        from mockserver.drifts import Exchange  # noqa: PLC0415 - see the imports

        return Exchange(
            self.drifts.view, reply.status, reply.body, list(reply.headers), reply.content_type, reply.delay,
            request_query=scope["query_string"],
        )  # fmt: skip

    @staticmethod
    def _drifted_reply(exchange: Exchange) -> Reply:
        body = exchange.finish()
        cut = min(exchange.cut_at, len(body)) if exchange.cut else None
        return Reply(
            exchange.status, body, tuple(exchange.headers), exchange.content_type, exchange.delay, cut
        )

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

        Replies are cached and immutable, so their encoded headers are too (a bounded cache); the last
        reply's are at hand without a key (the same cached reply, request after request).
        """
        last = self._last_encoded  # one attribute, read once: another thread may replace it meanwhile
        if last[0] is reply:
            return last[1]
        key = (reply.status, reply.content_type, len(reply.body), reply.headers)  # never the body itself
        encoded = self._encoded.get(key)
        if encoded is None:
            encoded = self._encode_headers(reply)
            if len(self._encoded) >= ENCODED_CACHE_SIZE:
                self._encoded.clear()
            self._encoded[key] = encoded
        self._last_encoded = (reply, encoded)
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
        await self.send_reply(scope, send, reply, started)

    async def send_reply(self, scope: Scope, send: Send, reply: Reply, started: float) -> None:
        """Send a computed reply (after its delay; cut short if a drift says so) and log the request."""
        if reply.delay:
            await asyncio.sleep(reply.delay)
        await send(
            {"type": "http.response.start", "status": reply.status, "headers": self.raw_headers(reply)}
        )
        body = reply.body_for(scope["method"])
        if reply.cut is not None and body:  # a drift: part of the body, then the connection is closed
            await send({"type": "http.response.body", "body": body[: reply.cut], "more_body": True})
            return
        await send({"type": "http.response.body", "body": body})
        if self.request_log is not None:  # logged here: no wrapper around send on the hot path
            self.request_log(scope, reply.status, time.perf_counter() - started)


def _uses(active: list[Bound]) -> tuple[DriftUse, ...]:
    return tuple((bound.drift.id, tuple(sorted(bound.params.items()))) for bound in active)


def _drifted(early: list[Bound]) -> Fault | None:
    """The journal's record of the drifts that changed a refusal (None when none did)."""
    return Fault(drifts=_uses(early)) if early else None


def _drift_ids(fault: Fault | None) -> tuple[str, ...]:
    return tuple(drift_id for drift_id, _ in fault.drifts) if fault is not None and fault.drifts else ()


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
