"""The admin API under ``/__mock__/``: the test controls of :mod:`mockserver.testing`, over HTTP.

Reset, seed, register and revoke keys, read and clear the journal, add and clear faults and drifts,
switch rate limits on (docs/server.md lists the endpoints; docs/drifts.md the drifts). When the emulator has
an admin token (always, when it listens beyond loopback), every admin request must carry it in
``X-Mock-Admin-Token``.

Every change (and a journal read, which asks every process to write what it holds) runs in a thread,
never on the event loop: with ``--state redis://`` it may wait for the vendor's shared lock (at most
12 s, then 503 ``state_unavailable``) and for every process to confirm, while this process's vendor
requests keep their latency. At most ``ADMIN_THREADS`` such calls run or wait at once per process;
beyond that an admin call answers 503 ``admin_busy`` (retry), so a flood of admin writes cannot grow
threads without limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver.drifts import DriftError
from mockserver.engine.emulator import Emulator
from mockserver.engine.tenancy import KeyConflictError, TenantLimitError
from mockserver.engine.vendor_app import VendorApp
from mockserver.engine.writes import WriteStateLimitError
from mockserver.kinds.auth import DEFAULT_TENANT
from mockserver.limits import Limits
from mockserver.serving.admin_scope import (
    ALL_TENANTS,
    TOKEN_HEADER,
    Caller,
    ScopeError,
    identify,
    require_global,
    require_tenant,
    target_tenant,
    test_tenant,
    token_ok,
)
from mockserver.state.datasets import RecordLimitError
from mockserver.state.faults import FaultLimitError, FaultRule
from mockserver.state.records import InvalidRecord

Handler = Callable[[Request], Awaitable[Response]]
AdminError = ScopeError  # the name the routes have always raised
JSON_TYPE = "application/json"
ADMIN_THREADS = 8  # admin changes running (or waiting for the shared state) in threads at once, per process
T = TypeVar("T")


class OffLoop:
    """Runs the state-changing part of admin calls in threads, at most ``limit`` at once (503 beyond)."""

    def __init__(self, limit: int = ADMIN_THREADS) -> None:
        self.limit = limit
        self.running = 0  # changed on the event loop only

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self.running >= self.limit:
            raise AdminError(
                503, "admin_busy", f"{self.limit} admin calls are already waiting for the state; retry"
            )
        self.running += 1
        try:
            return await run_in_threadpool(function, *args, **kwargs)
        finally:
            self.running -= 1


def _vendor(emulator: Emulator, vendor_id: str) -> VendorApp:
    if vendor_id not in emulator.apps:
        raise AdminError(404, "unknown_vendor", f"no vendor {vendor_id!r}; known: {sorted(emulator.apps)}")
    return emulator.apps[vendor_id]


CONTAINERS_PER_RECORD = 32  # objects and arrays a seed may hold per allowed record, before it is parsed


def _json_only(request: Request) -> None:
    """An admin write with a body must say it is JSON: a browser's cross-site form cannot."""
    kind = request.headers.get("content-type")
    if kind is None:
        if (
            request.headers.get("content-length", "0") not in ("", "0")
            or "transfer-encoding" in request.headers
        ):
            raise AdminError(415, "unsupported_media_type", f"send the body as Content-Type: {JSON_TYPE}")
        return
    if kind.split(";", 1)[0].strip().lower() != JSON_TYPE:
        raise AdminError(415, "unsupported_media_type", f"admin requests take {JSON_TYPE}, not {kind[:60]!r}")


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, read as it arrives and refused (413) as soon as it passes ``limit`` bytes."""
    too_large = AdminError(413, "body_too_large", f"an admin request body is at most {limit} bytes")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise too_large
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
    except ClientDisconnect:  # cut off (body timeout, connection cap): nobody is left to answer
        raise AdminError(400, "client_disconnected", "the client went away before sending its body") from None
    return b"".join(chunks)


def _check_shape(raw: bytes, limits: Limits) -> None:
    """Refuse, before parsing, a body with more JSON objects and arrays than any allowed seed needs."""
    most = max(limits.max_records_per_seed * CONTAINERS_PER_RECORD, 4096)
    if raw.count(b"{") + raw.count(b"[") > most:
        raise AdminError(
            413,
            "too_many_records",
            f"at most {limits.max_records_per_seed} records per seed (--max-records-per-seed)",
        )


async def _body(request: Request) -> dict[str, Any]:
    emulator: Emulator = request.app.state.emulator
    raw = await read_limited(request, emulator.config.limits.max_body_bytes)
    if not raw.strip():
        return {}
    _check_shape(raw, emulator.config.limits)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise AdminError(400, "invalid_json", "the request body must be a JSON object") from None
    if not isinstance(body, dict):
        raise AdminError(400, "invalid_json", "the request body must be a JSON object")
    return body


def _checked(emulator: Emulator, handler: Handler) -> Handler:
    """Token check, cross-site checks and error rendering around one admin handler."""

    async def wrapped(request: Request) -> Response:
        if emulator.config.admin_token is not None and not token_ok(emulator, request.headers):
            return JSONResponse(
                {"error": "admin_token_required", "message": f"send the admin token in {TOKEN_HEADER}"}, 401
            )
        try:
            writes = request.method in ("POST", "PUT", "PATCH", "DELETE")
            if writes:
                _json_only(request)
            response = await handler(request)
        except AdminError as error:
            return JSONResponse({"error": error.code, "message": error.message}, error.status)
        except RecursionError:
            return JSONResponse({"error": "invalid_json", "message": "the body is nested too deeply"}, 400)
        if writes and response.status_code < 400:
            for listener in emulator.changed:  # e.g. --state-dir saves the new state
                await run_in_threadpool(listener)
        return response

    return wrapped


def _caller(emulator: Emulator, request: Request, app: VendorApp | None) -> Caller:
    return identify(emulator, app, request.headers)


checked = _checked  # the inspector's JSON endpoints share the same protections


class AdminAPI:
    """The admin endpoints of one emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.off_loop = OffLoop()

    async def reset(self, request: Request) -> Response:
        vendor_id = request.query_params.get("vendor")
        tenant = request.query_params.get("tenant")
        if tenant:
            if vendor_id is None:
                raise AdminError(
                    400, "invalid_reset", "a tenant's reset names its vendor: ?vendor=ID&tenant=T"
                )
            app = _vendor(self.emulator, vendor_id)
            require_tenant(_caller(self.emulator, request, app), tenant)
            await self.off_loop.run(app.tenancy.free, tenant)
            return JSONResponse({"reset": vendor_id, "tenant": tenant})
        scoped = _vendor(self.emulator, vendor_id) if vendor_id is not None else None
        require_global(self.emulator, _caller(self.emulator, request, scoped), "a reset")
        await self.off_loop.run(self.emulator.reset if scoped is None else scoped.tenancy.reset)
        return JSONResponse({"reset": vendor_id or "all"})

    async def seed(self, request: Request) -> Response:
        app, body = _vendor(self.emulator, request.path_params["vendor"]), await _body(request)
        caller = _caller(self.emulator, request, app)
        records = body.get("records")
        if not isinstance(records, list):
            raise AdminError(400, "invalid_seed", 'give the records as {"records": [...]}')
        names = list(app.spec.datasets)
        name = body.get("dataset") or (names[0] if len(names) == 1 else None)
        if name is None:
            raise AdminError(
                400, "invalid_seed", f"{app.spec.id} has several datasets {names}: name one as 'dataset'"
            )
        asked = body.get("tenant")
        if asked == ALL_TENANTS:
            raise AdminError(400, "invalid_seed", "a seed is for one tenant")
        tenant = target_tenant(self.emulator, caller, str(asked) if asked else None, "a seed") or test_tenant(
            app
        )
        seed = partial(app.datasets.seed, tenant, str(name), records, mode=body.get("mode", "replace"))
        try:
            stored = await self.off_loop.run(seed)  # large seeds must not stall other tenants' requests
        except InvalidRecord as error:
            raise AdminError(422, "invalid_record", f"{error}; nothing was changed") from None
        except RecordLimitError as error:
            raise AdminError(413, "too_many_records", f"{error}; nothing was changed") from None
        except (ValueError, TypeError) as error:
            raise AdminError(400, "invalid_seed", str(error)) from None
        return JSONResponse({"dataset": name, "tenant": tenant, "records": stored.copies()})

    async def keys(self, request: Request) -> Response:
        app, body = _vendor(self.emulator, request.path_params["vendor"]), await _body(request)
        caller = _caller(self.emulator, request, app)
        key, tenant = body.get("key"), body.get("tenant")
        if not isinstance(key, str) or not key:
            raise AdminError(400, "invalid_key", 'give the key as {"key": "..."}')
        if isinstance(tenant, str) and tenant and not app.tenancy.is_new_tenant(tenant):
            require_tenant(caller, tenant)  # adding a key to an existing tenant is acting on it
        try:
            tenant = await self.off_loop.run(app.tenancy.register, key, tenant)
        except KeyConflictError as error:
            raise AdminError(409, "key_conflict", str(error)) from None
        except TenantLimitError as error:
            raise AdminError(429, error.code, str(error)) from None
        except ValueError as error:
            raise AdminError(400, "invalid_key", str(error)) from None
        return JSONResponse({"tenant": tenant}, 201)

    async def revoke(self, request: Request) -> Response:
        app, body = _vendor(self.emulator, request.path_params["vendor"]), await _body(request)
        key = str(body.get("key", ""))
        bound = app.tenancy.authenticator.credential(key) if key else None
        if bound is not None:
            require_tenant(_caller(self.emulator, request, app), bound.tenant or DEFAULT_TENANT)
        return JSONResponse({"revoked": await self.off_loop.run(app.tenancy.revoke, key)})

    async def journal(self, request: Request) -> Response:
        app = _vendor(self.emulator, request.path_params["vendor"])
        query = dict(request.query_params)
        caller = _caller(self.emulator, request, app)
        tenant = target_tenant(self.emulator, caller, query.pop("tenant", None), "reading every journal")
        if request.method == "DELETE":
            await self.off_loop.run(self.emulator.journal.clear, app.spec.id, tenant)
            return JSONResponse({"cleared": True})
        method, path = query.pop("method", None), query.pop("path", None)
        entries = await self.off_loop.run(self.emulator.journal.entries, app.spec.id, tenant)
        found = [
            entry.as_dict()
            for entry in entries
            if entry.matches(method=method, path=path)
            and all(entry.param(name) == value for name, value in query.items())
        ]
        return JSONResponse({"entries": found})

    async def faults(self, request: Request) -> Response:
        app = _vendor(self.emulator, request.path_params["vendor"])
        caller = _caller(self.emulator, request, app)
        if request.method == "POST":
            body = await _body(request)
            tenant = target_tenant(self.emulator, caller, body.get("tenant"), "a fault for every tenant")
            rule = _fault_rule({**body, "tenant": tenant})
            try:
                return JSONResponse((await self.off_loop.run(app.faults.add, rule)).as_dict(), 201)
            except FaultLimitError as error:
                raise AdminError(429, "too_many_faults", str(error)) from None
            except ValueError as error:
                raise AdminError(400, "invalid_fault", str(error)) from None
        asked = request.query_params.get("tenant")
        tenant = target_tenant(self.emulator, caller, asked, "every tenant's faults")
        if request.method == "DELETE":
            await self.off_loop.run(app.faults.clear, tenant, drifts=False)
        rules = app.faults.rules() if tenant is None else [
            rule for rule in app.faults.rules() if rule.tenant in (tenant, None)
        ]  # fmt: skip
        return JSONResponse({"faults": [rule.as_dict() for rule in rules if rule.drift is None]})

    async def rate_limits(self, request: Request) -> Response:
        app, body = _vendor(self.emulator, request.path_params["vendor"]), await _body(request)
        require_global(self.emulator, _caller(self.emulator, request, app), "switching rate limits")
        enabled = body.get("enabled", True)
        if not isinstance(enabled, bool):
            raise AdminError(400, "invalid_body", f"enabled is true or false, got {enabled!r}")
        await self.off_loop.run(setattr, app.tenancy, "rate_limits", enabled)
        return JSONResponse({"enabled": app.tenancy.rate_limits, "declared": app.limiter is not None})

    async def clock(self, request: Request) -> Response:
        """Move a tenant's emulator clock forward (billing periods of the write operations)."""
        app, body = _vendor(self.emulator, request.path_params["vendor"]), await _body(request)
        caller = _caller(self.emulator, request, app)
        tenant = target_tenant(self.emulator, caller, body.get("tenant"), "a clock") or test_tenant(app)
        days, seconds = body.get("days", 0), body.get("seconds", 0)
        if not all(
            isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in (days, seconds)
        ):
            raise AdminError(400, "invalid_clock", 'give {"days": N} or {"seconds": N}, not negative')
        try:
            now = await self.off_loop.run(
                app.writes.advance, tenant, days=float(days), seconds=float(seconds)
            )
        except WriteStateLimitError as error:
            raise AdminError(429, error.code, str(error)) from None
        return JSONResponse({"tenant": tenant, "now": now})

    async def switches(self, request: Request) -> Response:
        """Turn a declared switch of the write operations (e.g. payment_failed) on or off for a tenant."""
        app, body = _vendor(self.emulator, request.path_params["vendor"]), await _body(request)
        caller = _caller(self.emulator, request, app)
        tenant = target_tenant(self.emulator, caller, body.get("tenant"), "a switch") or test_tenant(app)
        name, on = body.get("name"), body.get("on", True)
        if not isinstance(name, str) or not isinstance(on, bool):
            raise AdminError(400, "invalid_switch", 'give {"name": "...", "on": true|false}')
        try:
            await self.off_loop.run(app.writes.switch, tenant, name, on)
        except WriteStateLimitError as error:
            raise AdminError(429, error.code, str(error)) from None
        except ValueError as error:
            raise AdminError(400, "invalid_switch", str(error)) from None
        return JSONResponse({"tenant": tenant, "name": name, "on": on})

    def routes(self) -> list[Route]:
        """The Starlette routes, each behind the token check."""
        drifts = partial(drifts_endpoint, self.emulator, self.off_loop)
        table: list[tuple[str, Handler, list[str]]] = [
            ("/__mock__/reset", self.reset, ["POST"]),
            ("/__mock__/{vendor}/seed", self.seed, ["POST"]),
            ("/__mock__/{vendor}/keys", self.keys, ["POST"]),
            ("/__mock__/{vendor}/revoke", self.revoke, ["POST"]),
            ("/__mock__/{vendor}/journal", self.journal, ["GET", "DELETE"]),
            ("/__mock__/{vendor}/faults", self.faults, ["GET", "POST", "DELETE"]),
            ("/__mock__/{vendor}/drifts", drifts, ["GET", "POST", "DELETE"]),
            ("/__mock__/{vendor}/rate-limits", self.rate_limits, ["POST"]),
            ("/__mock__/{vendor}/clock", self.clock, ["POST"]),
            ("/__mock__/{vendor}/switches", self.switches, ["POST"]),
        ]
        return [
            Route(path, _checked(self.emulator, handler), methods=methods) for path, handler, methods in table
        ]


def _fault_rule(body: dict[str, Any]) -> FaultRule:
    try:
        return FaultRule(
            status=body.get("status"), delay=float(body.get("delay", 0)), remaining=body.get("times"),
            path=body.get("path"), tenant=body.get("tenant"),
        )  # fmt: skip
    except (ValueError, TypeError) as error:
        raise AdminError(400, "invalid_fault", str(error)) from None


DRIFT_KEYS = frozenset({"drift", "params", "endpoint", "times", "probability", "tenant"})


async def drifts_endpoint(emulator: Emulator, off_loop: OffLoop, request: Request) -> Response:
    """``/__mock__/{vendor}/drifts``: list (GET), switch on (POST) and off (DELETE, ``?id=N`` for one) the
    drifts of docs/drifts.md; tenant-scoped and capped as faults are (they share the rule store)."""
    app = _vendor(emulator, request.path_params["vendor"])
    caller = _caller(emulator, request, app)
    if request.method == "POST":
        return await _add_drift(emulator, off_loop, request, app, caller)
    tenant = target_tenant(emulator, caller, request.query_params.get("tenant"), "every tenant's drifts")
    if request.method == "DELETE":
        await off_loop.run(_remove_drifts, app, tenant, request.query_params.get("id"))
    rules = [
        rule
        for rule in app.faults.rules()
        if rule.drift is not None and (tenant is None or rule.tenant in (tenant, None))
    ]
    standing = [{**rule.as_dict(), "id": None, "standing": True} for rule in app.standing_drifts]
    return JSONResponse({"drifts": [*standing, *(rule.as_dict() for rule in rules)]})


async def _add_drift(
    emulator: Emulator, off_loop: OffLoop, request: Request, app: VendorApp, caller: Caller
) -> Response:
    body = await _body(request)
    unknown = sorted(set(body) - DRIFT_KEYS)
    if unknown:
        raise AdminError(400, "invalid_drift", f"unknown keys {unknown}; a drift takes {sorted(DRIFT_KEYS)}")
    tenant = target_tenant(emulator, caller, body.get("tenant"), "a drift for every tenant")
    try:
        drift: Any = body.get("drift")  # checked by the catalogue: a 400 names the drifts
        rule = await off_loop.run(
            app.add_drift, drift, body.get("params"), endpoint=body.get("endpoint"),
            times=body.get("times"), probability=body.get("probability"), tenant=tenant,
        )  # fmt: skip
    except DriftError as error:
        known = sorted(app.drifts.listings)
        return JSONResponse({"error": "invalid_drift", "message": str(error), "drifts": known}, 400)
    except FaultLimitError as error:
        raise AdminError(429, "too_many_faults", f"{error}; drifts count as faults") from None
    except ValueError as error:
        raise AdminError(400, "invalid_drift", str(error)) from None
    return JSONResponse(rule.as_dict(), 201)


def _remove_drifts(app: VendorApp, tenant: str | None, asked: str | None) -> None:
    if asked is None:
        app.faults.clear(tenant, drifts=True)
        return
    if not asked.isdigit():
        raise AdminError(400, "invalid_drift", f"id is a rule id (a whole number), got {asked[:40]!r}")
    rule = next((rule for rule in app.faults.rules() if rule.id == int(asked) and rule.drift), None)
    if rule is None or (tenant is not None and rule.tenant != tenant):
        raise AdminError(404, "unknown_drift", f"no drift rule {asked} here")
    app.faults.remove(rule.id)


def admin_routes(emulator: Emulator) -> list[Route]:
    """The admin endpoints of one emulator."""
    return AdminAPI(emulator).routes()
