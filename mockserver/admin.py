"""The admin API under ``/__mock__/``: the test controls of :mod:`mockserver.testing`, over HTTP.

Reset, seed, register and revoke keys, read and clear the journal, add and clear faults, switch rate
limits on (the README's "Testing your integration" section lists the endpoints). When the emulator has
an admin token (always, when it listens beyond loopback), every admin request must carry it in
``X-Mock-Admin-Token``.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver.auth import DEFAULT_TENANT
from mockserver.emulator import Emulator
from mockserver.faults import FaultRule
from mockserver.records import InvalidRecord
from mockserver.vendor_app import VendorApp

TOKEN_HEADER = "x-mock-admin-token"  # noqa: S105 - a header name
Handler = Callable[[Request], Awaitable[Response]]


class AdminError(Exception):
    """A refused admin request: HTTP status, a machine-readable code and a sentence."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _vendor(emulator: Emulator, vendor_id: str) -> VendorApp:
    if vendor_id not in emulator.apps:
        raise AdminError(404, "unknown_vendor", f"no vendor {vendor_id!r}; known: {sorted(emulator.apps)}")
    return emulator.apps[vendor_id]


MAX_BODY_BYTES = 16 * 1024 * 1024


async def _body(request: Request) -> dict[str, Any]:
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
        raise AdminError(413, "body_too_large", f"an admin request body is at most {MAX_BODY_BYTES} bytes")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise AdminError(413, "body_too_large", f"an admin request body is at most {MAX_BODY_BYTES} bytes")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise AdminError(400, "invalid_json", "the request body must be a JSON object") from None
    if not isinstance(body, dict):
        raise AdminError(400, "invalid_json", "the request body must be a JSON object")
    return body


def _checked(emulator: Emulator, handler: Handler) -> Handler:
    """Token check and error rendering around one admin handler."""

    async def wrapped(request: Request) -> Response:
        token = emulator.config.admin_token
        presented = request.headers.get(TOKEN_HEADER, "")
        if token is not None and not hmac.compare_digest(presented.encode(), token.encode()):
            return JSONResponse(
                {"error": "admin_token_required", "message": f"send the admin token in {TOKEN_HEADER}"}, 401
            )
        try:
            return await handler(request)
        except AdminError as error:
            return JSONResponse({"error": error.code, "message": error.message}, error.status)
        except RecursionError:
            return JSONResponse({"error": "invalid_json", "message": "the body is nested too deeply"}, 400)

    return wrapped


checked = _checked  # the inspector's JSON endpoints share the same protections


class AdminAPI:
    """The admin endpoints of one emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    async def reset(self, request: Request) -> Response:
        vendor_id = request.query_params.get("vendor")
        if vendor_id is None:
            self.emulator.reset()
        else:
            _vendor(self.emulator, vendor_id).reset()
        return JSONResponse({"reset": vendor_id or "all"})

    async def seed(self, request: Request) -> Response:
        app, body = _vendor(self.emulator, request.path_params["vendor"]), await _body(request)
        records = body.get("records")
        if not isinstance(records, list):
            raise AdminError(400, "invalid_seed", 'give the records as {"records": [...]}')
        names = list(app.spec.datasets)
        name = body.get("dataset") or (names[0] if len(names) == 1 else None)
        if name is None:
            raise AdminError(
                400, "invalid_seed", f"{app.spec.id} has several datasets {names}: name one as 'dataset'"
            )
        tenant = str(body.get("tenant") or app.spec.auth.test_credentials[0].tenant or DEFAULT_TENANT)
        seed = partial(app.state.seed, tenant, str(name), records, mode=body.get("mode", "replace"))
        try:
            stored = await run_in_threadpool(seed)  # large seeds must not stall other tenants' requests
        except InvalidRecord as error:
            raise AdminError(422, "invalid_record", f"{error}; nothing was changed") from None
        except (ValueError, TypeError) as error:
            raise AdminError(400, "invalid_seed", str(error)) from None
        return JSONResponse({"dataset": name, "tenant": tenant, "records": stored.copies()})

    async def keys(self, request: Request) -> Response:
        app, body = _vendor(self.emulator, request.path_params["vendor"]), await _body(request)
        key = body.get("key")
        if not isinstance(key, str) or not key:
            raise AdminError(400, "invalid_key", 'give the key as {"key": "..."}')
        try:
            tenant = app.register(key, body.get("tenant"))
        except ValueError as error:
            raise AdminError(400, "invalid_key", str(error)) from None
        return JSONResponse({"tenant": tenant}, 201)

    async def revoke(self, request: Request) -> Response:
        app, body = _vendor(self.emulator, request.path_params["vendor"]), await _body(request)
        return JSONResponse({"revoked": app.revoke(str(body.get("key", "")))})

    async def journal(self, request: Request) -> Response:
        app = _vendor(self.emulator, request.path_params["vendor"])
        query = dict(request.query_params)
        tenant = query.pop("tenant", None)
        if request.method == "DELETE":
            self.emulator.journal.clear(app.spec.id, tenant)
            return JSONResponse({"cleared": True})
        method, path = query.pop("method", None), query.pop("path", None)
        entries = self.emulator.journal.entries(app.spec.id, tenant)
        found = [entry.as_dict() for entry in entries if entry.matches(method=method, path=path, **query)]
        return JSONResponse({"entries": found})

    async def faults(self, request: Request) -> Response:
        app = _vendor(self.emulator, request.path_params["vendor"])
        if request.method == "DELETE":
            app.faults.clear(request.query_params.get("tenant"))
        elif request.method == "POST":
            rule = _fault_rule(await _body(request))
            try:
                return JSONResponse(app.faults.add(rule).as_dict(), 201)
            except ValueError as error:
                raise AdminError(400, "invalid_fault", str(error)) from None
        return JSONResponse({"faults": [rule.as_dict() for rule in app.faults.rules()]})

    async def rate_limits(self, request: Request) -> Response:
        app, body = _vendor(self.emulator, request.path_params["vendor"]), await _body(request)
        enabled = body.get("enabled", True)
        if not isinstance(enabled, bool):
            raise AdminError(400, "invalid_body", f"enabled is true or false, got {enabled!r}")
        app.rate_limits = enabled
        return JSONResponse({"enabled": app.rate_limits, "declared": app.limiter is not None})

    def routes(self) -> list[Route]:
        """The Starlette routes, each behind the token check."""
        table: list[tuple[str, Handler, list[str]]] = [
            ("/__mock__/reset", self.reset, ["POST"]),
            ("/__mock__/{vendor}/seed", self.seed, ["POST"]),
            ("/__mock__/{vendor}/keys", self.keys, ["POST"]),
            ("/__mock__/{vendor}/revoke", self.revoke, ["POST"]),
            ("/__mock__/{vendor}/journal", self.journal, ["GET", "DELETE"]),
            ("/__mock__/{vendor}/faults", self.faults, ["GET", "POST", "DELETE"]),
            ("/__mock__/{vendor}/rate-limits", self.rate_limits, ["POST"]),
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


def admin_routes(emulator: Emulator) -> list[Route]:
    """The admin endpoints of one emulator."""
    return AdminAPI(emulator).routes()
