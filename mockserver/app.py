"""The Starlette application: every vendor mounted at ``/{vendor id}``, plus the ``/__mock__`` index."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from mockserver.config import EmulatorConfig
from mockserver.cursors import CursorCodec
from mockserver.errors import ConfigurationError
from mockserver.journal import Journal
from mockserver.schemas import SchemaStore
from mockserver.state import VendorState
from mockserver.vendor import VendorSpec, discover_vendors, load_vendor
from mockserver.vendor_app import VendorApp


def emulator_version() -> str:
    """The installed package version (``0+unknown`` when run from a bare checkout)."""
    try:
        return version("vendor-emulator")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class Emulator:
    """A configured emulator: its vendors, their state and their ASGI apps."""

    config: EmulatorConfig
    vendors: dict[str, VendorSpec]
    states: dict[str, VendorState]
    apps: dict[str, VendorApp]
    journal: Journal

    def reset(self) -> None:
        """Every vendor back to its fixtures, initial keys, no faults and an empty journal."""
        for app in self.apps.values():
            app.reset()


def build_emulator(config: EmulatorConfig) -> Emulator:
    """Load, check and index every selected vendor (raises a DeclarationError naming any broken file)."""
    if not config.schemas_dir.is_dir():
        raise ConfigurationError(f"schemas directory not found: {config.schemas_dir}")
    if not config.fixtures_dir.is_dir():
        raise ConfigurationError(f"fixtures directory not found: {config.fixtures_dir}")
    store = SchemaStore(config.schemas_dir)
    codec = CursorCodec(config.cursor_secret)
    journal = Journal(config.journal_size)
    vendors, states, apps = {}, {}, {}
    for vendor_id in config.selected(discover_vendors(config.schemas_dir)):
        spec = load_vendor(config.schemas_dir / vendor_id, store, config.options.get(vendor_id))
        _check_credentials(spec, config)
        vendors[vendor_id] = spec
        states[vendor_id] = VendorState(spec, store, config.fixtures_dir)
        extra = config.credentials.get(vendor_id, ())
        apps[vendor_id] = VendorApp(
            spec, states[vendor_id], codec, journal, extra, rate_limits=config.rate_limits
        )
    return Emulator(config, vendors, states, apps, journal)


def _check_credentials(spec: VendorSpec, config: EmulatorConfig) -> None:
    if spec.auth.tenant_header is None:
        return
    for credential in config.credentials.get(spec.id, ()):
        if credential.tenant is None:
            raise ConfigurationError(
                f"{spec.id} keys belong to an organization: give it as KEY:{spec.auth.tenant_header}"
            )


def credential_headers(spec: VendorSpec) -> list[dict[str, str]]:
    """The headers that authenticate each of a vendor's test credentials."""
    out = []
    for credential in spec.auth.test_credentials:
        if spec.auth.kind == "bearer":
            headers = {"Authorization": f"Bearer {credential.key}"}
        else:
            headers = {spec.auth.header or "": credential.key}
        if spec.auth.tenant_header and credential.tenant:
            headers[spec.auth.tenant_header] = credential.tenant
        out.append(headers)
    return out


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


def _index(emulator: Emulator) -> Route:
    body = {
        "name": "vendor-emulator",
        "version": emulator_version(),
        "vendors": [describe_vendor(spec, emulator.config) for spec in emulator.vendors.values()],
    }

    async def index(request: Request) -> Response:
        return JSONResponse(body)

    return Route("/__mock__", index, methods=["GET"])


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 405:
        body = {
            "error": "method_not_allowed",
            "message": f"{request.method} is not allowed on {request.url.path}",
        }
        return JSONResponse(body, status_code=405, headers={"allow": "GET"})
    message = f"No vendor is mounted at {request.url.path}; GET /__mock__ lists them."
    return JSONResponse({"error": "not_found", "message": message}, status_code=status)


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    """The emulator as a Starlette app: ``/{vendor}/...`` for each vendor, ``/__mock__`` for the index."""
    emulator = build_emulator(config or EmulatorConfig())
    routes: list[BaseRoute] = [_index(emulator)]
    routes += [Mount(f"/{vendor_id}", app=app) for vendor_id, app in emulator.apps.items()]
    if emulator.config.root_vendor:
        routes.append(Mount("", app=emulator.apps[emulator.config.root_vendor]))
    app = Starlette(routes=routes, exception_handlers={404: _http_error, 405: _http_error})
    app.router.redirect_slashes = False  # a redirect to a slash is not what any vendor answers
    app.state.emulator = emulator
    return app
