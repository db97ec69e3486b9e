"""The Starlette application: every vendor mounted at ``/{vendor id}``, plus the ``/__mock__`` index,
health (readiness) and liveness."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from mockserver.declarations.model import VendorSpec
from mockserver.engine.config import EmulatorConfig
from mockserver.engine.emulator import Emulator, build_emulator, credential_headers, emulator_version
from mockserver.engine.vendor_app import RequestLog, VendorApp
from mockserver.serving.admin import admin_routes
from mockserver.serving.inspector import inspector_routes
from mockserver.state.backends import StateUnavailable


def describe_vendor(spec: VendorSpec, config: EmulatorConfig) -> dict[str, Any]:
    """The ``/__mock__`` entry of one vendor (extra configured keys are counted, never shown)."""
    mount = f"/{spec.id}"
    return {
        "id": spec.id,
        "title": spec.title,
        "mount": mount,
        "served_at_root": config.root_vendor == spec.id,
        "openapi": f"{mount}/openapi.json",
        "docs": spec.docs,
        "live_base_url": spec.live_base_url,
        "hosts": list(spec.hosts),
        "endpoints": [
            {
                "method": "GET",
                "path": e.path,
                "url": f"{mount}{e.path}",
                "operation_id": e.operation_id,
                "summary": e.summary,
            }
            for e in spec.endpoints
        ],
        "test_credentials": credential_headers(spec),
        "extra_credentials": len(config.credentials.get(spec.id, ())),
        "options": {
            option.name: {"value": option.value, "default": option.default, "assumption": option.assumption}
            for option in spec.options
        },
    }


def _index(emulator: Emulator) -> list[Route]:
    """``GET /__mock__`` (one trailing slash ignored, as everywhere): what is served, and how."""
    body = {
        "name": "vendor-emulator",
        "version": emulator_version(),
        "vendors": [describe_vendor(spec, emulator.config) for spec in emulator.vendors.values()],
    }

    async def index(request: Request) -> Response:
        return JSONResponse(body)

    return [Route(path, index, methods=["GET"]) for path in ("/__mock__", "/__mock__/")]


def readiness_of(emulator: Emulator) -> Callable[[], str | None] | None:
    """The shared backend's readiness check (why this process is not ready, or None), if it has one."""
    readiness: Callable[[], str | None] | None = getattr(emulator.shared, "readiness", None)
    return readiness


def _health(emulator: Emulator) -> list[Route]:
    """``GET /__mock__/health`` (readiness) and ``GET /__mock__/live`` (liveness), with no credentials.

    Readiness is 503 while the shared state store is out of reach (vendor requests are still answered
    from memory, admin writes are refused): a load balancer sends traffic to a ready replica. The
    answer comes from the backend's in-memory flag, kept by its heartbeat: no store call per request.
    Liveness is 200 whenever the process answers at all (the container's HEALTHCHECK).
    """
    version = emulator_version()
    readiness = readiness_of(emulator)

    async def health(request: Request) -> Response:
        problem = readiness() if readiness is not None else None
        if problem is not None:
            body = {"status": "not_ready", "ready": False, "reason": problem, "version": version}
            return JSONResponse(body, status_code=503, headers={"cache-control": "no-store"})
        return JSONResponse({"status": "ok", "ready": True, "version": version})

    async def live(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": version})

    return [
        Route("/__mock__/health", health, methods=["GET"]),
        Route("/__mock__/live", live, methods=["GET"]),
    ]


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 405:
        body = {
            "error": "method_not_allowed",
            "message": f"{request.method} is not allowed on {request.url.path}",
        }
        allow = (exc.headers or {}).get("Allow", "GET") if isinstance(exc, HTTPException) else "GET"
        return JSONResponse(body, status_code=405, headers={"allow": allow})
    message = f"No vendor is mounted at {request.url.path}; GET /__mock__ lists them."
    return JSONResponse({"error": "not_found", "message": message}, status_code=status)


async def _state_unavailable(request: Request, exc: Exception) -> Response:
    """An admin change or journal read while the shared state store is away: nothing was changed."""
    message = f"{exc}; nothing was changed, retry when it is back"
    return JSONResponse({"error": "state_unavailable", "message": message}, status_code=503)


READS = frozenset({"GET", "HEAD", "OPTIONS"})
ADMIN = "/__mock__/"


class EmulatorApp(Starlette):
    """Starlette, with vendor requests handed straight to their vendor app (no router on the hot path).

    While the shared state store is out of reach, or this process has not yet reloaded it since it came
    back (the health endpoint's "not ready"), an admin write answers 503 ``state_unavailable`` before it
    starts: a process whose memory may lack other processes' changes never writes that memory back.

    Which vendor answers a path is :class:`~mockserver.engine.routing.Routes`' decision (``/{vendor}/...``
    to that vendor; with a root vendor, anything but ``/__mock__`` to it). Everything else (the index, the
    admin API, unknown paths) takes Starlette's usual way.
    """

    def __init__(self, emulator: Emulator, routes: list[BaseRoute]) -> None:
        handlers = {404: _http_error, 405: _http_error, StateUnavailable: _state_unavailable}
        super().__init__(routes=routes, exception_handlers=handlers)
        self.router.redirect_slashes = False  # a redirect to a slash is not what any vendor answers
        self.state.emulator = emulator
        self.vendor_routes = emulator.routes
        self.readiness = readiness_of(emulator)

    def vendor_for(self, path: str) -> VendorApp | None:
        """The vendor app that answers ``path`` on the fast path, or None (Starlette's way)."""
        mounted = self.vendor_routes.for_path(path)
        return None if mounted is None else mounted.owner

    def log_requests(self, log: RequestLog) -> None:
        """Have every vendor app log its requests with ``log`` (the request-log middleware asks this)."""
        for vendor_app in self.vendor_routes.vendors.values():
            vendor_app.request_log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            mounted = self.vendor_routes.for_path(scope["path"])
            if mounted is not None:
                if mounted.prefix:
                    scope = {**scope, "root_path": scope.get("root_path", "") + mounted.prefix}
                await mounted.owner(scope, receive, send)
                return
            if (
                self.readiness is not None
                and scope["method"] not in READS
                and scope["path"].startswith(ADMIN)
            ):
                problem = self.readiness()
                if problem is not None:  # this process's memory may miss changes: it must not write it
                    refusal = await _state_unavailable(Request(scope), StateUnavailable(problem))
                    await refusal(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    """The emulator as a Starlette app: ``/{vendor}/...`` for each vendor, ``/__mock__`` for the index."""
    emulator = build_emulator(config or EmulatorConfig())
    routes: list[BaseRoute] = [
        *_index(emulator),
        *_health(emulator),
        *inspector_routes(emulator),
        *admin_routes(emulator),
    ]
    return EmulatorApp(emulator, routes)
