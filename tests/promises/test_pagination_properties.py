"""Property tests: for any page size, filters and order, walking every page returns each matching record
once, in order. Every endpoint of every declared vendor is walked, page after page as its paging style
tells a client to (whatever the style); the expected list is computed here from the fixtures and the
meaning of each declared filter kind (an oracle per kind, written here, keyed by the kind's registered
name), the fixed ``where`` and the order with the key as tiebreak, independently of the engine. An
endpoint with a filter kind that has no oracle here is skipped, naming the kind."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.data.dataset import field_value
from mockserver.declarations.model import EndpointSpec
from mockserver.documents.reading import path_get
from mockserver.engine.emulator import Emulator, build_emulator
from mockserver.kinds.filter_kinds.contains import Contains
from mockserver.kinds.filter_kinds.date_range import DateRange
from mockserver.kinds.filter_kinds.equals import Equals
from mockserver.kinds.filter_kinds.equals_any import EqualsAny
from mockserver.kinds.filter_kinds.include_flag import IncludeFlag
from mockserver.kinds.filters import Filter
from mockserver.kinds.paging import PageSeen, read_signals, signal_paths
from tests.conftest import VendorClient, data_config

SPECS = build_emulator(data_config()).vendors
CASES = [(vendor_id, e.path) for vendor_id, spec in SPECS.items() for e in spec.endpoints]
MAX_SIZE = 100
Record = Mapping[str, Any]
Values = Mapping[str, Any]  # a filter's parameters, each the value sent or its default (None: absent)
K = TypeVar("K", bound=Filter)


def _same(value: Any, wanted: Any, case_insensitive: bool) -> bool:
    if case_insensitive and isinstance(value, str) and isinstance(wanted, str):
        return value.casefold() == wanted.casefold()
    return type(value) is type(wanted) and value == wanted


def _as(kind: type[K], item: Filter) -> K:
    """The filter as the kind its oracle is for (the oracles are looked up by the kind's name)."""
    assert isinstance(item, kind), f"{item.kind} is not a {kind.__name__}"
    return item


def _strings(records: list[Record], fields: tuple[str, ...]) -> list[str]:
    return sorted({v for r in records for f in fields if isinstance(v := field_value(r, f), str)})


def _choices(endpoint: EndpointSpec, name: str, seen: list[str]) -> st.SearchStrategy[Any]:
    """The enum of parameter ``name`` if it has one, else values seen in the records and one absent."""
    spec = endpoint.params[name]
    if spec.enum is not None:
        return st.sampled_from(spec.enum)
    absent = ["no-such-value"] if spec.format is None else []
    return st.sampled_from([*seen[:40], *absent])


@dataclass(frozen=True)
class Oracle:
    """What a filter kind means, written independently of the engine: which records a request keeps,
    and the values a property test sends (a strategy for each of the filter's string parameters)."""

    keeps: Callable[[Filter, Values, Record], bool]
    values: Callable[[Filter, EndpointSpec, list[Record]], Mapping[str, st.SearchStrategy[Any]]]


def _equals_keeps(item: Filter, values: Values, record: Record) -> bool:
    settings, value = _as(Equals, item).settings, values[item.param]
    if value is None or value == settings.match_all:
        return True
    return _same(field_value(record, settings.field), value, settings.case_insensitive)


def _equals_values(
    item: Filter, endpoint: EndpointSpec, records: list[Record]
) -> dict[str, st.SearchStrategy[Any]]:
    seen = _strings(records, (_as(Equals, item).settings.field,))
    return {item.param: _choices(endpoint, item.param, seen)}


def _equals_any_keeps(item: Filter, values: Values, record: Record) -> bool:
    settings, value = _as(EqualsAny, item).settings, values[item.param]
    return value is None or any(
        _same(field_value(record, f), value, settings.case_insensitive) for f in settings.fields
    )


def _equals_any_values(
    item: Filter, endpoint: EndpointSpec, records: list[Record]
) -> dict[str, st.SearchStrategy[Any]]:
    seen = _strings(records, _as(EqualsAny, item).settings.fields)
    return {item.param: _choices(endpoint, item.param, seen)}


def _contains_keeps(item: Filter, values: Values, record: Record) -> bool:
    fields, value = _as(Contains, item).settings.fields, values[item.param]
    if value is None:
        return True
    texts = [str(field_value(record, f)) for f in fields if field_value(record, f) is not None]
    return any(value.casefold() in text.casefold() for text in texts)


def _contains_values(
    item: Filter, endpoint: EndpointSpec, records: list[Record]
) -> dict[str, st.SearchStrategy[Any]]:
    length = max(2, endpoint.params[item.param].min_length or 1)
    seen = _strings(records, _as(Contains, item).settings.fields)
    return {
        item.param: _choices(endpoint, item.param, sorted({t[:length] for t in seen if len(t) >= length}))
    }


def _include_flag_keeps(item: Filter, values: Values, record: Record) -> bool:
    settings = _as(IncludeFlag, item).settings
    return values[item.param] in settings.true_values or field_value(record, settings.field) is False


def _include_flag_values(
    item: Filter, endpoint: EndpointSpec, records: list[Record]
) -> dict[str, st.SearchStrategy[Any]]:
    return {item.param: st.sampled_from([*sorted(_as(IncludeFlag, item).settings.true_values), "0"])}


def _moment(value: Any) -> datetime | None:
    """An ISO-8601 timestamp or date as a UTC moment (None when it is not one)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _date_range_keeps(item: Filter, values: Values, record: Record) -> bool:
    settings = _as(DateRange, item).settings
    low, high = _moment(values[item.param]), _moment(values[settings.before_param])
    if low is None and high is None:
        return True
    moment = _moment(field_value(record, settings.field))
    if moment is None:
        return False
    above = low is None or moment > low or (moment == low and settings.after == "inclusive")
    below = high is None or moment < high or (moment == high and settings.before == "inclusive")
    return above and below


def _date_range_values(
    item: Filter, endpoint: EndpointSpec, records: list[Record]
) -> dict[str, st.SearchStrategy[Any]]:
    settings = _as(DateRange, item).settings
    seen = sorted(v for r in records if _moment(v := field_value(r, settings.field)) is not None)
    bounds = st.sampled_from(seen[:40] or ["2000-01-01T00:00:00Z"])
    return {item.param: bounds, settings.before_param: bounds}


def _accepted_keeps(item: Filter, values: Values, record: Record) -> bool:
    return True  # validated only: every record is listed


def _accepted_values(
    item: Filter, endpoint: EndpointSpec, records: list[Record]
) -> dict[str, st.SearchStrategy[Any]]:
    return {item.param: st.sampled_from(sorted(endpoint.params[item.param].enum or ("",)))}


ORACLES: dict[str, Oracle] = {
    "equals": Oracle(_equals_keeps, _equals_values),
    "equals-any": Oracle(_equals_any_keeps, _equals_any_values),
    "contains": Oracle(_contains_keeps, _contains_values),
    "include-flag": Oracle(_include_flag_keeps, _include_flag_values),
    "date-range": Oracle(_date_range_keeps, _date_range_values),
    "accepted": Oracle(_accepted_keeps, _accepted_values),
}


def _values(endpoint: EndpointSpec, item: Filter, query: Mapping[str, Any]) -> dict[str, Any]:
    return {name: query.get(name, endpoint.params[name].default) for name in item.params}


def expected(endpoint: EndpointSpec, key: str, records: list[Record], query: dict[str, Any]) -> list[Any]:
    """The keys of the records the endpoint lists for ``query``, in the declared order."""
    kept = [
        r
        for r in records
        if all(_same(field_value(r, f), v, False) for f, v in endpoint.where.items())
        and all(
            ORACLES[item.kind].keeps(item, _values(endpoint, item, query), r) for item in endpoint.filters
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


@st.composite
def queries(draw: st.DrawFn, endpoint: EndpointSpec, records: list[Record]) -> dict[str, Any]:
    """A page size, some filters and an order, each within what the endpoint declares."""
    query: dict[str, Any] = {}
    size_name = endpoint.paging.size_param
    if size_name is not None:
        spec = endpoint.params[size_name]
        query[spec.name] = draw(
            st.integers(max(1, spec.minimum or 1), min(spec.maximum or MAX_SIZE, MAX_SIZE))
        )
    for item in endpoint.filters:
        for name, values in ORACLES[item.kind].values(item, endpoint, records).items():
            if endpoint.params[name].type == "string" and draw(st.booleans()):
                query[name] = draw(values)
    if endpoint.order.param is not None and draw(st.booleans()):
        query[endpoint.order.param] = draw(st.sampled_from(sorted(endpoint.order.options)))
    return query


def walk(client: VendorClient, endpoint: EndpointSpec, query: dict[str, Any], pages: int) -> list[Any]:
    """Every record listed from the first page to the last, each next page asked for as the endpoint's
    paging style tells a client to (its own page, offset, cursor or link)."""
    items_at = signal_paths(endpoint.envelope)["items"]
    key = client.spec.datasets[endpoint.dataset].key
    size = query.get(endpoint.paging.size_param or "")
    walked: list[Any] = []
    current: dict[str, Any] | None = query
    for _ in range(pages):
        if current is None:
            return walked
        response = client.get(endpoint.path, params=current)
        assert response.status_code == 200, response.text
        body = response.json()
        items = path_get(body, items_at)
        walked += [item[key] for item in items]
        headers = {name.lower(): value for name, value in response.headers.items()}
        seen = PageSeen(current, len(items), read_signals(endpoint.envelope, body), headers)
        following = endpoint.paging.next_query(seen, size)
        current = None if following is None else dict(following)
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
    unknown = sorted({item.kind for item in endpoint.filters} - ORACLES.keys())
    if unknown:
        pytest.skip(f"no oracle here for filter kind(s) {', '.join(unknown)}: write one in ORACLES")

    @given(queries(endpoint, records))
    def check(query: dict[str, Any]) -> None:
        wanted = expected(endpoint, key, records, query)
        assert walk(client, endpoint, query, len(records) + 2) == wanted

    check()
