"""The generic engine: one ASGI app per vendor, built from its VendorSpec.

Per request: route by path, check the method, authenticate, parse the query, select the records
(indexes and cached selections), page them, and render the envelope from pre-serialised bytes.
Every refusal is rendered with the vendor's own error template; nothing a client sends reaches a
bare 500.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import orjson
from starlette.types import Scope

from mockserver.data.dataset import Dataset
from mockserver.declarations.model import EndpointSpec, VendorSpec
from mockserver.engine.answer_cache import AnswerCache
from mockserver.kinds.auth import Principal
from mockserver.kinds.cursors import CursorCodec, cursor_scope
from mockserver.kinds.filters import fixed_constraints
from mockserver.kinds.messages import STYLES
from mockserver.kinds.paging import Page, PageRequest
from mockserver.kinds.params import ARRAY_KEY, Violation, parse_query, split_query
from mockserver.kinds.templates import CompiledTemplate, render_tree
from mockserver.state.datasets import VendorDatasets

logger = logging.getLogger("mockserver")
FAULT_KINDS = (
    "rate_limited", "unavailable", "server_error", "invalid_credentials", "forbidden", "not_found",
    "method_not_allowed", "invalid_parameter", "payload_too_large",
)  # fmt: skip
FAULT_DEFAULTS = {
    "retry_after": 60,
    "limit": 0,
    "remaining": 0,
    "reset": 0,
    "message": "Simulated fault",
    "field": "",
}
DEFAULT_ANSWER_CACHE_BYTES = 64 * 1024 * 1024
ALLOWED_METHODS = ("GET", "HEAD")
LIST_HEADERS = frozenset({"prefer"})  # repeated, these combine (RFC 9110 5.3); others: the first counts
ALLOW = "GET, HEAD, OPTIONS"
OPENAPI_PATH = "/openapi.json"


@dataclass(frozen=True)
class Reply:
    """A complete response: status, extra headers and JSON body bytes."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str | None = None
    delay: float = 0.0
    cut: int | None = None  # a drift cut the body short: send this many bytes, then close the connection

    def body_for(self, method: str) -> bytes:
        """The body sent in answer to ``method``: none for HEAD (RFC 9110 9.3.2), headers unchanged."""
        return b"" if method == "HEAD" else self.body


def route_path(scope: Scope) -> str:
    """The request path below the mount point (Starlette keeps the full path and extends root_path).

    One trailing slash is ignored, as Laravel's router and Express's non-strict routing do. An encoded
    slash (%2F) never separates segments, so a path that contains one matches no route.
    """
    path: str = scope["path"]
    raw = scope.get("raw_path", b"")
    if b"%" in raw and b"%2f" in raw.lower():
        return "/%2F"
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        path = path[len(root) :] or "/"
    return path[:-1] if len(path) > 1 and path.endswith("/") else path


def request_headers(scope: Scope, wanted: frozenset[bytes] | None = None) -> dict[str, str]:
    """Header names (lower case) to values, of every header or only the ``wanted`` ones.

    A repeated header counts once (the first), except list headers such as Prefer, which combine.
    """
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        if wanted is not None and raw_name not in wanted:
            continue
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        if name in headers and name in LIST_HEADERS:
            headers[name] += ", " + value
        else:
            headers.setdefault(name, value)
    return headers


def named_headers(scope: Scope, names: Mapping[bytes, str]) -> dict[str, str]:
    """``request_headers`` of the wanted headers, given with their names as text (one look-up a header)."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = names.get(raw_name)
        if name is None:
            continue
        if name not in headers:
            headers[name] = raw_value.decode("latin-1")
        elif name in LIST_HEADERS:
            headers[name] += ", " + raw_value.decode("latin-1")
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

    def fault(self, status: int, **variables: Any) -> Reply:
        """The vendor's error for an injected ``status``: its own template for that status if it has one."""
        kind = next(
            (
                kind
                for kind in FAULT_KINDS
                if self.spec.errors.get(kind, None) and self.spec.errors[kind].status == status
            ),
            None,
        )
        reply = self.render(kind or "server_error", **{**FAULT_DEFAULTS, **variables})
        return replace(reply, status=status)

    def violation(self, violation: Violation) -> Reply:
        """The vendor's invalid-parameter error for a violation, in its framework's words."""
        return self.render("invalid_parameter", field=violation.field, message=self.style(violation))


# Queries whose read parameters an endpoint remembers: at most so many, of at most so many bytes
# (with their parameters, under 600 KiB an endpoint).
READ_QUERIES = 256
READ_QUERY_BYTES = 1024
SLOW_QUERY = re.compile(rb"[%+\[;]")  # escapes, plus-spaces, array forms: decode before comparing names


def _array_of(name: str, read: frozenset[str]) -> bool:
    array = ARRAY_KEY.match(name) if "[" in name else None
    return array is not None and array.group(1) in read


class Endpoint:
    """One list operation, ready to answer."""

    def __init__(
        self,
        vendor: VendorSpec,
        spec: EndpointSpec,
        state: VendorDatasets,
        codec: CursorCodec,
        cache: AnswerCache | None = None,
    ) -> None:
        self.vendor = vendor
        self.spec = spec
        self.state = state
        self.pager = spec.paging
        self.codec = codec
        self.request_specs = self.pager.request_specs()
        self.envelope = CompiledTemplate(spec.envelope)
        self.fixed = fixed_constraints(spec.where)
        self.errors = ErrorRenderer(vendor)
        self._replies = cache if cache is not None else AnswerCache(DEFAULT_ANSWER_CACHE_BYTES)
        self._read = frozenset(self.request_specs)
        self._read_raw = frozenset(name.encode("utf-8") for name in self._read)
        self._read_queries: dict[bytes, tuple[object, ...]] = {}  # see read_params

    def _scope(self, principal: Principal, params: Mapping[str, Any], order: Any) -> str:
        listed = sorted(
            (name, value) for name, value in params.items() if name not in self.pager.paging_params
        )
        return cursor_scope((self.vendor.id, self.spec.path, principal.tenant), (listed, order))

    def _page(self, principal: Principal, params: Mapping[str, Any], dataset: Dataset) -> Page | Violation:
        constraints = [*self.fixed]
        for item in self.spec.filters:
            constraint = item.constraint_for(params)
            if isinstance(constraint, Violation):
                return constraint
            if constraint is not None:
                constraints.append(constraint)
        ordering = dataset.ordering(self.spec.order.keys_for(params))
        selection = dataset.select(constraints, ordering)
        scope = self._scope(principal, params, ordering.keys)
        request = PageRequest(params, dataset, selection, scope, self.codec)
        return self.pager.page(request)

    def answer(self, principal: Principal, query_string: bytes, *, use_cache: bool = True) -> Reply:
        """The response to an authenticated GET with this query string.

        Answers are deterministic for a dataset (by generation), a tenant and the parameters the endpoint
        reads, so they are cached under those (bounded in bytes); seeding makes a new dataset, hence new
        keys. Auth, faults, limits and the journal are applied around this, per request. A drifted
        request (``use_cache`` False) neither reads nor fills the cache.
        """
        dataset = self.state.dataset(principal.tenant, self.spec.dataset)
        if not use_cache:
            return self._answer(principal, query_string, dataset)
        # An undeclared parameter changes the answer only where the vendor refuses it (unknown=reject).
        read = (query_string,) if self.vendor.query.unknown == "reject" else self.read_params(query_string)
        key = (self.spec.path, dataset.generation, principal.tenant, read)
        cached: Reply | None = self._replies.get(key)
        if cached is not None:
            return cached
        reply = self._answer(principal, query_string, dataset)
        self._replies.put(key, reply, len(reply.body))
        return reply

    def read_params(self, query_string: bytes) -> tuple[object, ...]:
        """The query pairs this endpoint reads (declared names, and their array form), in order.

        Remembered for the queries seen lately (READ_QUERIES of at most READ_QUERY_BYTES each): a client
        repeats its queries, and the same tuple makes the same answer-cache key, hashed faster.
        """
        if not query_string:
            return ()
        read = self._read_queries.get(query_string)
        if read is None:
            read = self._read_params(query_string)
            if len(query_string) <= READ_QUERY_BYTES:
                if len(self._read_queries) >= READ_QUERIES:
                    self._read_queries.clear()
                self._read_queries[query_string] = read
        return read

    def _read_params(self, query_string: bytes) -> tuple[object, ...]:
        if not SLOW_QUERY.search(query_string):  # nothing encoded: a raw name is the name
            raw = self._read_raw
            return tuple(part for part in query_string.split(b"&") if part.partition(b"=")[0] in raw)
        read = self._read
        return tuple(
            pair for pair in split_query(query_string) if pair[0] in read or _array_of(pair[0], read)
        )

    def _answer(self, principal: Principal, query_string: bytes, dataset: Dataset) -> Reply:
        params = parse_query(query_string, self.request_specs, self.vendor.query)
        if isinstance(params, Violation):
            return self.errors.violation(params)
        page = self._page(principal, params, dataset)
        if isinstance(page, Violation):
            return self.errors.violation(page)
        body = self.envelope.render({**page.variables, "items": dataset.json_array(page.positions)})
        return Reply(200, body, page.headers)
