"""The generic engine: one ASGI app per vendor, built from its VendorSpec.

Per request: route by path, check the method, authenticate, parse the query, select the records
(indexes and cached selections), page them, and render the envelope from pre-serialised bytes.
Every refusal is rendered with the vendor's own error template; nothing a client sends reaches a
bare 500.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.types import Receive, Scope, Send

from mockserver.auth import Authenticator, Denied, Principal
from mockserver.cursors import CursorCodec, scope_digest
from mockserver.filters import fixed_constraints
from mockserver.messages import STYLES
from mockserver.paging import Page, Pager, PageRequest
from mockserver.params import Violation, parse_query
from mockserver.state import VendorState
from mockserver.templates import CompiledTemplate, render_tree
from mockserver.vendor import Credential, EndpointSpec, VendorSpec

logger = logging.getLogger("mockserver")
ALLOWED_METHODS = ("GET", "HEAD")
ALLOW = "GET, HEAD, OPTIONS"
OPENAPI_PATH = "/openapi.json"


@dataclass(frozen=True)
class Reply:
    """A complete response: status, extra headers and JSON body bytes."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str | None = None


def route_path(scope: Scope) -> str:
    """The request path below the mount point (Starlette keeps the full path and extends root_path).

    One trailing slash is ignored, as Laravel's router and Express's non-strict routing do. An encoded
    slash (%2F) never separates segments, so a path that contains one matches no route.
    """
    path: str = scope["path"]
    if b"%2f" in scope.get("raw_path", b"").lower():
        return "/%2F"
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        path = path[len(root) :] or "/"
    return path[:-1] if len(path) > 1 and path.endswith("/") else path


def request_headers(scope: Scope) -> dict[str, str]:
    """Header names (lower case) to values; for repeated headers the first one counts."""
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return headers


class ErrorRenderer:
    """Renders a vendor's error templates."""

    def __init__(self, spec: VendorSpec) -> None:
        self.spec = spec
        self.style = STYLES[spec.messages]

    def render(self, kind: str, **variables: Any) -> Reply:
        """The vendor's ``kind`` error with its placeholders filled."""
        template = self.spec.errors[kind]
        body = orjson.dumps(render_tree(template.body, variables))
        headers = tuple(
            (name, str(render_tree(value, variables))) for name, value in template.headers.items()
        )
        return Reply(template.status, body, headers)

    def violation(self, violation: Violation) -> Reply:
        """The vendor's invalid-parameter error for a violation, in its framework's words."""
        return self.render("invalid_parameter", field=violation.field, message=self.style(violation))


class Endpoint:
    """One list operation, ready to answer."""

    def __init__(
        self, vendor: VendorSpec, spec: EndpointSpec, state: VendorState, codec: CursorCodec
    ) -> None:
        self.vendor = vendor
        self.spec = spec
        self.state = state
        self.pager = Pager.from_declaration(spec.paging, spec.params, codec)
        self.request_specs = self.pager.request_specs()
        self.envelope = CompiledTemplate(spec.envelope)
        self.fixed = fixed_constraints(spec.where)
        self.errors = ErrorRenderer(vendor)

    def _scope(self, principal: Principal, params: Mapping[str, Any], order: Any) -> str:
        listed = sorted(
            (name, value) for name, value in params.items() if name not in self.pager.paging_params
        )
        return scope_digest(self.vendor.id, self.spec.path, principal.tenant, listed, order)

    def _page(self, principal: Principal, params: Mapping[str, Any]) -> tuple[Page | Violation, Any]:
        dataset = self.state.dataset(principal.tenant, self.spec.dataset)
        constraints = [*self.fixed]
        for item in self.spec.filters:
            constraint = item.constraint(params.get(item.param))
            if constraint is not None:
                constraints.append(constraint)
        ordering = dataset.ordering(self.spec.order.keys_for(params))
        selection = dataset.select(constraints, ordering)
        request = PageRequest(params, dataset, selection, self._scope(principal, params, ordering.keys))
        return self.pager.page(request), dataset

    def answer(self, principal: Principal, query_string: bytes) -> Reply:
        """The response to an authenticated GET with this query string."""
        params = parse_query(query_string, self.request_specs, self.vendor.query)
        if isinstance(params, Violation):
            return self.errors.violation(params)
        page, dataset = self._page(principal, params)
        if isinstance(page, Violation):
            return self.errors.violation(page)
        body = self.envelope.render({**page.variables, "items": dataset.json_array(page.positions)})
        return Reply(200, body)


class VendorApp:
    """The ASGI app of one vendor: its endpoints, its OpenAPI document and its error shapes."""

    def __init__(
        self,
        spec: VendorSpec,
        state: VendorState,
        codec: CursorCodec,
        credentials: tuple[Credential, ...] = (),
    ) -> None:
        self.spec = spec
        self.state = state
        self.authenticator = Authenticator(spec.auth, (*spec.auth.test_credentials, *credentials))
        self.endpoints = {
            endpoint.path: Endpoint(spec, endpoint, state, codec) for endpoint in spec.endpoints
        }
        self.errors = ErrorRenderer(spec)
        self.content_type = spec.content_type

    def reply(self, scope: Scope) -> Reply:
        """The response to one request; a bug becomes the vendor's 500 (logged), never a traceback."""
        try:
            return self._reply(scope)
        except Exception:
            logger.exception("%s: unexpected error on %s %s", self.spec.id, scope["method"], scope["path"])
            return self.errors.render("server_error")

    def _reply(self, scope: Scope) -> Reply:
        path = route_path(scope)
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
            return Reply(reply.status, reply.body, (*reply.headers, ("allow", ALLOW)))
        who = self.authenticator.authenticate(request_headers(scope))
        if isinstance(who, Denied):
            return self.errors.render(who.refusal.value, header=who.header, **details)
        return endpoint.answer(who, scope["query_string"])

    def _openapi(self, scope: Scope) -> Reply:
        headers = request_headers(scope)
        base = (
            f"{scope.get('scheme', 'http')}://{headers.get('host', 'localhost')}{scope.get('root_path', '')}"
        )
        document = dict(self.spec.openapi)
        document["servers"] = [
            {"url": base, "description": "this emulator"},
            *self.spec.openapi.get("servers", []),
        ]
        return Reply(200, orjson.dumps(document), content_type="application/json")

    def raw_headers(self, reply: Reply) -> list[tuple[bytes, bytes]]:
        """The response headers of a reply, as ASGI and the in-process transport both send them."""
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
        reply = self.reply(scope)
        await send(
            {"type": "http.response.start", "status": reply.status, "headers": self.raw_headers(reply)}
        )
        body = b"" if scope["method"] == "HEAD" else reply.body
        await send({"type": "http.response.body", "body": body})
