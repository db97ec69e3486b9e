"""The ASGI app of one vendor: routing, auth, faults, rate limits and the journal around the engine."""

from __future__ import annotations

import asyncio
import hashlib
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
from mockserver.kinds.auth import DEFAULT_TENANT, Authenticator, Credential, Denied
from mockserver.kinds.cursors import CursorCodec
from mockserver.limits import DEFAULT_LIMITS, Limits
from mockserver.state.backends import InMemory, SharedState, StateUnavailable
from mockserver.state.datasets import VendorState
from mockserver.state.fault_store import Faults
from mockserver.state.faults import Fault, FaultIds, combined, preferred
from mockserver.state.journal import Journal
from mockserver.state.rate_limiter import RateLimiter, Verdict

logger = logging.getLogger("mockserver")
ENCODED_CACHE_SIZE = 4096
RequestLog = Callable[[Scope, int, float], None]  # (scope, status, seconds): one request-log line


class KeyConflictError(ValueError):
    """A key cannot be bound to the tenant asked for (built in, or bound to another tenant)."""


class TenantLimitError(ValueError):
    """One more tenant (or key) would pass --max-tenants (--max-keys); ``code`` says which."""

    def __init__(self, message: str, code: str = "too_many_tenants") -> None:
        super().__init__(message)
        self.code = code


def tenant_for_key(key: str) -> str:
    """A tenant name derived from a key, which never reveals the key."""
    return "key-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


class VendorApp:
    """One vendor, served: its endpoints, its OpenAPI document, its error shapes and its test controls."""

    def __init__(
        self,
        spec: VendorSpec,
        state: VendorState,
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
        self.state = state
        self.journal = journal
        self.shared: SharedState = shared or InMemory()
        self.faults = Faults(limits.max_faults, spec.id, self.shared, fault_ids)
        self._initial_credentials = (*spec.auth.test_credentials, *credentials)
        self.builtin_tenants = frozenset(item.tenant or DEFAULT_TENANT for item in self._initial_credentials)
        self._builtin_keys = frozenset(item.key for item in self._initial_credentials)
        self.authenticator = Authenticator(spec.auth, self._initial_credentials)
        self.endpoints = {
            endpoint.path: Endpoint(spec, endpoint, state, codec, self.cache) for endpoint in spec.endpoints
        }
        self.errors = ErrorRenderer(spec)
        self.content_type = spec.content_type
        if limiter is None and spec.rate_limits:
            limiter = RateLimiter.from_declaration(spec.rate_limits, clock)
        self.limiter = limiter
        self._rate_limits = rate_limits
        self._initial_rate_limits = rate_limits
        self.secret_headers = frozenset({(spec.auth.header or "Authorization").lower().encode("latin-1")})
        names = [spec.auth.header or "Authorization", spec.auth.tenant_header or "", "prefer", "host"]
        self._encoded: dict[tuple[object, ...], list[tuple[bytes, bytes]]] = {}
        self.read_headers = frozenset(name.lower().encode("latin-1") for name in names if name)
        self.request_log: RequestLog | None = None  # set by the request-log middleware of `serve`

    # ------------------------------------------------------------------ controls

    def register(self, key: str, tenant: str | None = None) -> str:
        """Accept ``key`` for ``tenant`` (by default a fresh, isolated one); returns the tenant's name."""
        organization = self.spec.auth.tenant_header
        if not isinstance(key, str) or not key or key != key.strip(" \t"):
            raise ValueError("a key is a non-empty string without surrounding white space")
        if tenant is not None and (not isinstance(tenant, str) or not tenant):
            raise ValueError("a tenant is a non-empty string")
        if organization and tenant is None:
            raise ValueError(f"{self.spec.id} keys belong to an organization: give its {organization}")
        name = tenant or tenant_for_key(key)
        if key in self._builtin_keys:
            raise KeyConflictError("a built-in or configured key cannot be re-mapped")
        with self.shared.exclusive(self.spec.id):  # the caps and bindings of every process
            return self._bind(key, name)

    def _bind(self, key: str, name: str) -> str:
        bound = self.authenticator.credential(key)
        if bound is not None:
            if (bound.tenant or DEFAULT_TENANT) != name:
                raise KeyConflictError("this key is already bound to another tenant; revoke it there first")
            return name
        if self.authenticator.size() >= self.limits.max_keys:
            message = f"{self.spec.id} accepts {self.limits.max_keys} keys already (--max-keys)"
            raise TenantLimitError(message, "too_many_keys")
        if self.is_new_tenant(name) and len(self.registered_tenants()) >= self.limits.max_tenants:
            raise TenantLimitError(
                f"{self.spec.id} has {self.limits.max_tenants} tenants already (--max-tenants);"
                " revoke a tenant's keys to free it"
            )
        credential = Credential(key, name)
        if self.shared.shared:  # stored for every process first: nothing changes here if that fails
            self.shared.put(self.spec.id, "credentials", self.authenticator.exported(change=credential))
        self.authenticator.add(credential)
        return name

    def is_new_tenant(self, tenant: str) -> bool:
        """Whether no key is bound to ``tenant`` yet."""
        return tenant not in self.builtin_tenants and self.authenticator.count(tenant) == 0

    def registered_tenants(self) -> set[str]:
        """The tenants that keys registered at run time created (built-in and configured ones excluded)."""
        return set(self.authenticator.tenants()) - self.builtin_tenants

    def revoke(self, key: str) -> bool:
        """Refuse ``key`` from now on (its requests get the vendor's invalid-key 401).

        When it was the last key of a registered tenant, the tenant is freed: its data, journal, faults,
        rate-limit windows and cached answers go.
        """
        with self.shared.exclusive(self.spec.id):
            bound = self.authenticator.credential(key)
            if self.shared.shared:  # every process frees the tenant when it applies the change
                self.shared.put(self.spec.id, "credentials", self.authenticator.exported(revoked=key))
            revoked = self.authenticator.revoke(key)
        tenant = (bound.tenant or DEFAULT_TENANT) if bound is not None else None
        if tenant is not None and tenant not in self.builtin_tenants and not self.authenticator.count(tenant):
            self.free(tenant)
        return revoked

    def free(self, tenant: str) -> None:
        """Forget everything held for ``tenant`` (its keys stay as they are)."""
        self.state.forget(tenant)
        self.journal.clear(self.spec.id, tenant)
        self.faults.clear(tenant)
        self.cache.forget(tenant)
        if self.limiter is not None:
            self.limiter.forget(tenant)

    @property
    def rate_limits(self) -> bool:
        """Whether the documented rate limits are enforced (``--rate-limits`` or the admin API)."""
        return self._rate_limits

    @rate_limits.setter
    def rate_limits(self, enabled: bool) -> None:
        if self.shared.shared:
            self.shared.put(self.spec.id, "rate_limits", enabled)
        self._rate_limits = enabled

    def reset(self) -> None:
        """Back to the start: fixtures, initial keys, no faults, no journal, empty rate-limit windows."""
        self.shared.put(self.spec.id, "reset", None)  # every process, first; then this one
        self.journal.clear(self.spec.id)
        with self.shared.applying():
            self.reset_here()

    def reset_here(self) -> None:
        """``reset`` of this process's memory only (another process reset the vendor for everyone)."""
        self.state.reset()
        self.faults.applied([])
        self.cache.clear()
        self.authenticator = Authenticator(self.spec.auth, self._initial_credentials)
        self._rate_limits = self._initial_rate_limits
        if self.limiter is not None:
            self.limiter.reset()

    def applied(self, part: str, value: object) -> None:
        """Mirror a change another process made to this vendor's shared state."""
        if part == "reset":
            self.reset_here()
        elif part == "faults":
            self.faults.applied(value)  # type: ignore[arg-type]
        elif part == "credentials":
            before = self.registered_tenants()
            self.authenticator = Authenticator(self.spec.auth, self._initial_credentials)
            if value is not None:
                self.authenticator.load(value)  # type: ignore[arg-type]
            for tenant in before - self.registered_tenants():  # revoked elsewhere: freed here too
                self.free(tenant)
        elif part == "rate_limits":
            self._rate_limits = self._initial_rate_limits if value is None else bool(value)

    # ------------------------------------------------------------------ requests

    def reply(self, scope: Scope) -> Reply:
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
            reply, tenant, fault = self._reply(scope, path)
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
        )
        return reply

    def _route(self, scope: Scope, path: str) -> Endpoint | Reply:
        """The endpoint a request is for, or the reply that ends it before authentication."""
        method: str = scope["method"]
        if path == OPENAPI_PATH and method in ALLOWED_METHODS:
            return self._openapi(scope)
        endpoint = self.endpoints.get(path)
        details = {"method": method, "path": path, "route": path.lstrip("/")}
        if endpoint is None:
            return self.errors.render("not_found", **details)
        if method == "OPTIONS":
            return Reply(204, b"", (("allow", ALLOW),))
        if method not in ALLOWED_METHODS:
            reply = self.errors.render("method_not_allowed", allowed=ALLOW, **details)
            return replace(reply, headers=(*reply.headers, ("allow", ALLOW)))
        return endpoint

    def _reply(self, scope: Scope, path: str) -> tuple[Reply, str | None, Fault | None]:
        endpoint = self._route(scope, path)
        if isinstance(endpoint, Reply):
            return endpoint, None, None
        headers = request_headers(scope, self.read_headers)
        who = self.authenticator.authenticate(headers)
        if isinstance(who, Denied):
            details = {"method": scope["method"], "path": path, "route": path.lstrip("/")}
            return self.errors.render(who.refusal.value, header=who.header, **details), None, None
        verdict = self.limiter.check(who.tenant) if self._rate_limits and self.limiter else None
        if verdict is not None and not verdict.allowed:
            return self.errors.render("rate_limited", **self._limit_variables(verdict)), who.tenant, None
        fault = combined(preferred(headers), self.faults.take(who.tenant, path))
        if fault.status is not None:
            details = {"method": scope["method"], "path": path, "route": path.lstrip("/")}
            reply = self.errors.fault(fault.status, **details, **self._limit_variables(verdict))
        else:
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
        reply = self.reply(scope)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        await send(
            {"type": "http.response.start", "status": reply.status, "headers": self.raw_headers(reply)}
        )
        body = b"" if scope["method"] == "HEAD" else reply.body
        await send({"type": "http.response.body", "body": body})
        if self.request_log is not None:  # logged here: no wrapper around send on the hot path
            self.request_log(scope, reply.status, time.perf_counter() - started)
