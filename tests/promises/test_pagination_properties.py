"""Property tests: for any page size, filters and order, walking every page returns each matching record
once, in order. Every endpoint of every declared vendor is walked; the expected list is computed here
from the fixtures and the declaration's meaning (equals, equals-any, contains, include-flag, where, order
with the key as tiebreak), independently of the engine."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.data.dataset import field_value
from mockserver.declarations.model import EndpointSpec
from mockserver.documents.reading import path_get
from mockserver.engine.emulator import Emulator, build_emulator
from mockserver.kinds.filter_kinds.contains import Contains
from mockserver.kinds.filter_kinds.equals import Equals
from mockserver.kinds.filter_kinds.equals_any import EqualsAny
from mockserver.kinds.filter_kinds.include_flag import IncludeFlag
from mockserver.kinds.filters import Filter
from mockserver.kinds.paging import signal_paths
from tests.conftest import VendorClient, data_config

SPECS = build_emulator(data_config()).vendors
CASES = [(vendor_id, e.path) for vendor_id, spec in SPECS.items() for e in spec.endpoints]
SIZE_PARAMS = {"offset": "limit_param", "page": "size_param", "cursor": "size_param"}
MAX_SIZE = 100
Record = Mapping[str, Any]


def _same(value: Any, wanted: Any, case_insensitive: bool) -> bool:
    if case_insensitive and isinstance(value, str) and isinstance(wanted, str):
        return value.casefold() == wanted.casefold()
    return type(value) is type(wanted) and value == wanted


def _keeps(item: Filter, value: Any, record: Record) -> bool:
    """Whether ``record`` is listed under filter ``item`` with parameter ``value`` (None: no value)."""
    if isinstance(item, IncludeFlag):
        return value in item.settings.true_values or field_value(record, item.settings.field) is False
    if value is None:
        return True
    if isinstance(item, Equals):
        return value == item.settings.match_all or _same(
            field_value(record, item.settings.field), value, item.settings.case_insensitive
        )
    if isinstance(item, EqualsAny):
        return any(
            _same(field_value(record, f), value, item.settings.case_insensitive) for f in item.settings.fields
        )
    assert isinstance(item, Contains)
    texts = [str(field_value(record, f)) for f in item.settings.fields if field_value(record, f) is not None]
    return any(value.casefold() in text.casefold() for text in texts)


def expected(endpoint: EndpointSpec, key: str, records: list[Record], query: dict[str, Any]) -> list[Any]:
    """The keys of the records the endpoint lists for ``query``, in the declared order."""
    kept = [
        r
        for r in records
        if all(_same(field_value(r, f), v, False) for f, v in endpoint.where.items())
        and all(
            _keeps(item, query.get(item.param, endpoint.params[item.param].default), r)
            for item in endpoint.filters
        )
    ]
    for name, direction in reversed([*_order(endpoint, query), (key, "asc")]):
        kept.sort(key=_by(name), reverse=direction == "desc")
    return [r[key] for r in kept]


def _order(endpoint: EndpointSpec, query: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    order = endpoint.order
    if order.param is None:
        return order.options[""]
    return order.options[str(query.get(order.param) or endpoint.params[order.param].default)]


def _by(name: str) -> Any:
    """A sort key on field ``name``: nulls first, as in every vendor's declared orders."""
    return lambda record: (field_value(record, name) is not None, field_value(record, name))


def _filter_values(item: Filter, endpoint: EndpointSpec, records: list[Record]) -> st.SearchStrategy[Any]:
    spec = endpoint.params[item.param]
    if isinstance(item, IncludeFlag):
        return st.sampled_from([*sorted(item.settings.true_values), "0"])
    if spec.enum is not None:
        return st.sampled_from(spec.enum)
    fields = [item.settings.field] if isinstance(item, Equals) else list(getattr(item.settings, "fields", ()))
    seen = sorted({str(v) for r in records for f in fields if isinstance(v := field_value(r, f), str)})
    if isinstance(item, Contains):
        length = max(2, spec.min_length or 1)
        seen = sorted({text[:length] for text in seen if len(text) >= length})
    absent = ["no-such-value"] if spec.format is None else []
    return st.sampled_from([*seen[:40], *absent])


@st.composite
def queries(draw: st.DrawFn, endpoint: EndpointSpec, records: list[Record]) -> dict[str, Any]:
    """A page size, some filters and an order, each within what the endpoint declares."""
    query: dict[str, Any] = {}
    size_name = SIZE_PARAMS.get(endpoint.paging.declaration["style"])
    if size_name is not None:
        spec = endpoint.params[endpoint.paging.declaration[size_name]]
        query[spec.name] = draw(
            st.integers(max(1, spec.minimum or 1), min(spec.maximum or MAX_SIZE, MAX_SIZE))
        )
    for item in endpoint.filters:
        if endpoint.params[item.param].type == "string" and draw(st.booleans()):
            query[item.param] = draw(_filter_values(item, endpoint, records))
    if endpoint.order.param is not None and draw(st.booleans()):
        query[endpoint.order.param] = draw(st.sampled_from(sorted(endpoint.order.options)))
    return query


def _next(endpoint: EndpointSpec, query: dict[str, Any], body: Any, count: int) -> dict[str, Any] | None:
    paging, style = endpoint.paging.declaration, endpoint.paging.declaration["style"]
    size = query.get(paging.get(SIZE_PARAMS.get(style, ""), ""), 0)
    if style == "none" or (style != "cursor" and count < size):
        return None
    if style == "offset":
        return {**query, paging["offset_param"]: query.get(paging["offset_param"], 0) + count}
    if style == "page":
        return {**query, paging["page_param"]: query.get(paging["page_param"], 1) + 1}
    cursor = path_get(body, signal_paths(endpoint.envelope).get("next_cursor"))
    return {**query, paging["cursor_param"]: cursor} if cursor else None


def walk(client: VendorClient, endpoint: EndpointSpec, query: dict[str, Any], pages: int) -> list[Any]:
    """Every record listed from the first page to the last, following the endpoint's paging style."""
    paths = signal_paths(endpoint.envelope)
    key = client.spec.datasets[endpoint.dataset].key
    walked: list[Any] = []
    current: dict[str, Any] | None = query
    for _ in range(pages):
        if current is None:
            return walked
        response = client.get(endpoint.path, params=current)
        assert response.status_code == 200, response.text
        items = path_get(response.json(), paths["items"])
        walked += [item[key] for item in items]
        current = _next(endpoint, current, response.json(), len(items))
    raise AssertionError(f"still paging after {pages} pages")


@pytest.mark.parametrize(("vendor_id", "path"), CASES)
def test_every_walk_is_complete_ordered_and_duplicate_free(
    emulator: Emulator, vendor_id: str, path: str, http: httpx.Client
) -> None:
    """Any page size, filters and order: each matching record exactly once, in the declared order."""
    client = VendorClient(http, emulator, vendor_id)
    endpoint = next(e for e in client.spec.endpoints if e.path == path)
    key = client.spec.datasets[endpoint.dataset].key
    records = client.records(endpoint.dataset)

    @given(queries(endpoint, records))
    def check(query: dict[str, Any]) -> None:
        wanted = expected(endpoint, key, records, query)
        assert walk(client, endpoint, query, len(records) + 2) == wanted

    check()
