"""The linter's envelope check: every page an endpoint can send validates against its 200 schema.

The endpoint is walked from its first page to its last at the default page size, the way a client would
(its paging style says how to ask for the next page: the next offset, the next page number, the
``next_cursor`` the envelope carries...), and once more over an empty dataset. Each page is held to
the strict variant of the endpoint's 200 response schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import orjson

from mockserver.declarations.model import EndpointSpec
from mockserver.documents.reading import path_get
from mockserver.documents.schemas import SchemaStore
from mockserver.engine.pipeline import Endpoint
from mockserver.kinds.auth import Principal
from mockserver.kinds.paging import PageSeen, read_signals, signal_paths
from mockserver.kinds.templates import placeholders

MAX_PAGES = 1000
EMPTY_TENANT = "__lint_empty__"
Query = dict[str, Any]


def _pages(endpoint: Endpoint, spec: EndpointSpec, tenant: str) -> Iterator[tuple[Query, int, Any]]:
    """(query, status, body) of each page, first to last (a page past the last, listing nothing, is none)."""
    items_at = signal_paths(spec.envelope).get("items", ())
    query: Query | None = {}
    for number in range(MAX_PAGES):
        if query is None:
            return
        reply = endpoint.answer(Principal(tenant), urlencode(query).encode())
        body = orjson.loads(reply.body)
        items = path_get(body, items_at)
        count = len(items) if isinstance(items, list) else 0
        if number and reply.status == 200 and count == 0:
            return
        yield query, reply.status, body
        if reply.status != 200:
            return
        headers = {name.lower(): value for name, value in reply.headers}
        seen = PageSeen(query, count, read_signals(spec.envelope, body), headers)
        query = spec.paging.next_query(seen)


def _label(number: int, total: int) -> str:
    if total == 1:
        return "only"
    if number == 0:
        return "first"
    return "last" if number == total - 1 else "middle"


def _positions(labels: list[str]) -> str:
    """``first, 3 middle, last, empty``: which pages, in order, middle ones counted."""
    middle = labels.count("middle")
    named = [label for label in labels if label != "middle"]
    if middle:
        named.insert(1 if named[:1] == ["first"] else 0, f"{middle} middle")
    return ", ".join(named)


def _first_error(store: SchemaStore, spec: EndpointSpec, body: Any) -> tuple[str, str] | None:
    """The first violation: where and which rule (to group pages by), and its message."""
    for error in store.errors(spec.response_schema, body, strict=True)[:1]:
        where = "/" + "/".join(map(str, error.absolute_path))
        return f"{where} {error.validator}", f"{where}: {error.message}"
    return None


def _empty_page(endpoint: Endpoint, spec: EndpointSpec) -> Any:
    endpoint.state.replace(EMPTY_TENANT, spec.dataset, [])
    try:
        return orjson.loads(endpoint.answer(Principal(EMPTY_TENANT), b"").body)
    finally:
        endpoint.state.forget(EMPTY_TENANT)


def envelope_problems(store: SchemaStore, endpoint: Endpoint, spec: EndpointSpec) -> list[str]:
    """Why pages of this endpoint (first, middle, last, and over no records) break its 200 schema."""
    problems: list[str] = []
    if "items" not in placeholders(spec.envelope):
        problems.append("the envelope has no ${items} placeholder, so no record is ever listed")
    pages = list(_pages(endpoint, spec, "default"))
    failing: dict[str, tuple[str, list[str]]] = {}
    for number, (query, status, body) in enumerate(pages):
        label = _label(number, len(pages))
        if status != 200:
            problems.append(f"the {label} page ({urlencode(query) or 'no query'}) is a {status}, not a 200")
        elif (found := _first_error(store, spec, body)) is not None:
            failing.setdefault(found[0], (found[1], []))[1].append(label)
    if (found := _first_error(store, spec, _empty_page(endpoint, spec))) is not None:
        failing.setdefault(found[0], (found[1], []))[1].append("empty")
    schema = spec.response_schema.name
    problems += [
        f"pages ({_positions(labels)}) do not match {schema}: {detail}" for detail, labels in failing.values()
    ]
    return problems
