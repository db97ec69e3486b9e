"""A local "vendor" that drifts: it forwards to the emulator and alters the answer, one scenario at a time.

It listens on 127.0.0.1 (real HTTP, uvicorn in a thread). ``--target live`` is pointed at it through the
``*_BASE_URL`` variables. Each scenario changes responses the way a real vendor might (a renamed field,
a login page, an ignored filter...) and is applied generically, from the vendor's schemas and envelope.
"""

from __future__ import annotations

import asyncio
import copy
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockserver import EmulatorConfig, create_app
from mockserver.declarations.model import EndpointSpec, VendorSpec
from mockserver.documents.reading import path_get
from mockserver.documents.schemas import SchemaStore
from mockserver.engine.emulator import Emulator, credential_headers
from mockserver.intercept.transport import EmulatorTransport
from mockserver.kinds.paging import signal_paths

LOGIN_PAGE = b"<!doctype html><html><body><form action='/login'>Sign in</form></body></html>"
Mutation = Callable[["Exchange"], None]
Params = list[tuple[str, str | int | float | bool | None]]
Rewrite = Callable[[EndpointSpec, Params], Params]


@dataclass
class Exchange:
    """One forwarded request and the emulator's answer, which a scenario may change in place."""

    vendor: VendorSpec
    endpoint: EndpointSpec | None
    params: list[tuple[str, str | int | float | bool | None]]
    request_headers: dict[str, str]
    status: int
    headers: dict[str, str]
    body: Any
    raw: bytes | None = None
    store: SchemaStore | None = None

    def items(self) -> list[dict[str, Any]]:
        """The listed items of the body (mutable)."""
        if self.endpoint is None or not isinstance(self.body, dict | list):  # a list: a bare-array body
            return []
        found = path_get(self.body, signal_paths(self.endpoint.envelope).get("items"))
        return found if isinstance(found, list) else []

    def item_schema(self) -> dict[str, Any]:
        """The item schema's properties, with $refs resolved one level."""
        assert self.store is not None
        assert self.endpoint is not None
        return item_schema(self.store, self.vendor, self.endpoint)


def item_schema(store: SchemaStore, vendor: VendorSpec, endpoint: EndpointSpec) -> dict[str, Any]:
    """An endpoint's item schema: its required names and properties, with $refs resolved one level."""
    path = vendor.datasets[endpoint.dataset].schema
    schema = store.contents(path)
    resolved = {}
    for name, sub in schema.get("properties", {}).items():
        resolved[name] = {**store.resolve(path, sub["$ref"])[1], **sub} if "$ref" in sub else sub
    return {"required": schema.get("required", []), "properties": resolved}


@dataclass
class Upstream:
    """The drifting server and the scenario it currently plays."""

    emulator_app: Starlette
    store: SchemaStore
    base: str = ""
    mutation: Mutation | None = None
    ignore_auth: bool = False
    ignore_filters: bool = False
    rewrite: Rewrite | None = None
    requests: list[str] = field(default_factory=list)

    def play(
        self,
        mutation: Mutation | None = None,
        *,
        ignore_auth: bool = False,
        ignore_filters: bool = False,
        rewrite: Rewrite | None = None,
    ) -> None:
        """Switch to a scenario (no arguments: answer exactly as the emulator does).

        ``rewrite`` changes the query before it is forwarded (a vendor whose defaults changed).
        """
        self.mutation, self.ignore_auth, self.ignore_filters = mutation, ignore_auth, ignore_filters
        self.rewrite = rewrite

    @property
    def emulator(self) -> Emulator:
        found: Emulator = self.emulator_app.state.emulator
        return found

    def environ(self, **secrets: str) -> dict[str, str]:
        """The environment of a live run against this upstream, from each vendor's ``live_environment``.

        Credentials are the vendor's first test key (``secrets`` may replace it per vendor id) and its
        organization, where the vendor has a tenant header.
        """
        out: dict[str, str] = {}
        for spec in self.emulator.vendors.values():
            declared = spec.live_environment
            out[declared["base_url_variable"]] = f"{self.base}/{spec.id}"
            credential = spec.auth.test_credentials[0]
            values = [secrets.get(spec.id, credential.key), credential.tenant]
            out.update(
                {name: value for name, value in zip(declared["credentials"], values, strict=False) if value}
            )
        return out

    async def handle(self, request: Request) -> Response:
        vendor_id, _, rest = request.url.path.lstrip("/").partition("/")
        spec = self.emulator.vendors[vendor_id]
        endpoint = next((e for e in spec.endpoints if e.path == "/" + rest), None)
        presented = {name: value for name, value in request.headers.items() if name != "host"}
        headers = credential_headers(spec)[0] if self.ignore_auth else presented
        params: list[tuple[str, str | int | float | bool | None]] = list(request.query_params.multi_items())
        if self.ignore_filters and endpoint is not None:
            dropped = {declared.param for declared in endpoint.filters}
            params = [(name, value) for name, value in params if name not in dropped]
        if self.rewrite is not None and endpoint is not None:
            params = self.rewrite(endpoint, params)
        async with httpx.AsyncClient(
            transport=EmulatorTransport(self.emulator_app), base_url="http://emulator"
        ) as client:
            answer = await client.get(request.url.path, params=params, headers=headers)
        exchange = Exchange(
            spec,
            endpoint,
            params,
            presented,
            answer.status_code,
            {"content-type": answer.headers["content-type"]},
            answer.json(),
            store=self.store,
        )
        self.requests.append(request.url.path)
        if self.mutation is not None:
            self.mutation(exchange)
        content = exchange.raw if exchange.raw is not None else orjson.dumps(exchange.body)
        return Response(content, exchange.status, headers=exchange.headers)


def free_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@dataclass
class Running:
    upstream: Upstream
    server: uvicorn.Server
    thread: threading.Thread


def start(config: EmulatorConfig | None = None) -> Running:
    """Start an upstream on a free loopback port, forwarding to an emulator built from ``config``."""
    emulator_app = create_app(config or EmulatorConfig())
    upstream = Upstream(emulator_app, SchemaStore(emulator_app.state.emulator.config.schemas_dir))
    app = Starlette(routes=[Route("/{path:path}", upstream.handle, methods=["GET", "HEAD"])])
    sock = free_socket()
    upstream.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", access_log=False, lifespan="off"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)
    return Running(upstream, server, thread)


def stop(running: Running) -> None:
    running.server.should_exit = True
    running.thread.join(timeout=10)


# ---------------------------------------------------------------------------------------------- scenarios


def _ok_list(exchange: Exchange) -> bool:
    return exchange.status == 200 and bool(exchange.items())


Wanted = Callable[[str, dict[str, Any]], bool]


def _first(exchange: Exchange, wanted: Wanted) -> str | None:
    """The field a scenario changes; None (nothing to change) when the item schema has no such field."""
    return first_field(exchange.item_schema(), wanted) if _ok_list(exchange) else None


def first_field(schema: dict[str, Any], wanted: Wanted) -> str | None:
    """The first required property that ``wanted`` accepts (None when there is none)."""
    properties = schema["properties"]
    return next((n for n in schema["required"] if n in properties and wanted(n, properties[n])), None)


def _types(sub: dict[str, Any]) -> list[str]:
    kinds = sub.get("type", [])
    return kinds if isinstance(kinds, list) else [kinds]


RENAMEABLE: Wanted = lambda n, s: "string" in _types(s) and "enum" not in s  # noqa: E731
ENUMERATED: Wanted = lambda n, s: "enum" in s  # noqa: E731
NOT_NULLABLE_STRING: Wanted = lambda n, s: "null" not in _types(s) and "string" in _types(s)  # noqa: E731
RETYPEABLE: Wanted = lambda n, s: "null" not in _types(s) and "enum" not in s and s.get("type") != "object"  # noqa: E731
E164: Wanted = lambda n, s: s.get("format") == "e164"  # noqa: E731


def rename(exchange: Exchange) -> None:
    name = _first(exchange, RENAMEABLE)
    if name is not None:
        for item in exchange.items():
            item[f"{name}_v2"] = item.pop(name)


def missing(exchange: Exchange) -> None:
    name = _first(exchange, ENUMERATED)
    if name is not None:
        for item in exchange.items():
            item.pop(name)


def null(exchange: Exchange) -> None:
    name = _first(exchange, NOT_NULLABLE_STRING)
    if name is not None:
        exchange.items()[0][name] = None


def type_change(exchange: Exchange) -> None:
    name = _first(exchange, RETYPEABLE)
    if name is not None:
        value = exchange.items()[0][name]
        exchange.items()[0][name] = str(value) if not isinstance(value, str) else 12345


def format_change(exchange: Exchange) -> None:
    name = _first(exchange, E164)
    if name is not None:
        for item in exchange.items():
            item[name] = "0049 (155) 551234"


def enum_unknown(exchange: Exchange) -> None:
    name = _first(exchange, ENUMERATED)
    if name is not None:
        exchange.items()[-1][name] = "brand_new_value"


def extra_field(exchange: Exchange) -> None:
    for item in exchange.items():
        item["sentiment_score"] = 0.9


def constraint(exchange: Exchange) -> None:
    if _ok_list(exchange):
        schema = exchange.item_schema()["properties"]
        patterned = [name for name, sub in schema.items() if "pattern" in sub or "minimum" in sub]
        if patterned:
            name = patterned[0]
            exchange.items()[0][name] = -5 if "minimum" in schema[name] else "not matching!"
        elif exchange.endpoint is not None:
            total = signal_paths(exchange.endpoint.envelope).get("total", ("count",))
            holder = path_get(exchange.body, total[:-1]) if total[:-1] else exchange.body
            holder[total[-1]] = -1


def server_error(exchange: Exchange) -> None:
    if exchange.status == 200:
        exchange.status, exchange.body = 500, {"message": "Server Error"}


def login_page(exchange: Exchange) -> None:
    exchange.status, exchange.raw = 200, LOGIN_PAGE
    exchange.headers = {"content-type": "text/html; charset=utf-8"}


def redirect_to_login(exchange: Exchange) -> None:
    exchange.status, exchange.raw = 302, b""
    exchange.headers = {"location": "https://example.invalid/login", "content-type": "text/html"}


def error_shape(exchange: Exchange) -> None:
    if exchange.status in (401, 403):
        exchange.body = {"detail": "Not authenticated"}


def duplicate_across_pages(exchange: Exchange) -> None:
    items = exchange.items()
    if _ok_list(exchange) and len(items) > 1:
        items[-1] = copy.deepcopy(items[0])


def reversed_order(exchange: Exchange) -> None:
    items = exchange.items()
    if _ok_list(exchange):
        items.reverse()


def echo_key(exchange: Exchange) -> None:
    """A vendor that echoes the presented key in its error bodies (the report must still not show it)."""
    if exchange.status == 401:
        presented = " ".join(exchange.request_headers.values())
        exchange.body = {"error": "Invalid API key", "message": f"Key {presented} is invalid"}


# The fields each scenario changes: a vendor whose item schema has none of them cannot show that drift.
NEEDS: dict[Mutation, Wanted] = {
    rename: RENAMEABLE,
    missing: ENUMERATED,
    null: NOT_NULLABLE_STRING,
    type_change: RETYPEABLE,
    format_change: E164,
    enum_unknown: ENUMERATED,
}


def can_show(
    mutation: Mutation | None, store: SchemaStore, vendor: VendorSpec, endpoint: EndpointSpec
) -> bool:
    """Whether ``mutation`` finds a field to change in the endpoint's items."""
    wanted = NEEDS.get(mutation) if mutation is not None else None
    return wanted is None or first_field(item_schema(store, vendor, endpoint), wanted) is not None
