"""Hypothesis strategies for property-testing code that parses these vendors' responses.

    from mockserver.testing.strategies import list_responses, records

    @given(records("butter"))
    def test_my_parser_reads_any_butter_number(record): ...

    @given(list_responses("mindhunters", "/api/v1/phone-numbers"))
    def test_my_pager_reads_any_page(body): ...

``records`` draws from the item schema and keeps only what validates strictly; ``list_responses``
seeds drawn records into an emulator and asks it for a drawn, valid query, so every response is one the
vendor (as documented) could send, with consistent pagination.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
from hypothesis import strategies as st

from mockserver.documents.schemas import SchemaStore
from mockserver.engine.config import DEFAULT_FIXTURES_DIR, DEFAULT_SCHEMAS_DIR, EmulatorConfig
from mockserver.engine.emulator import Emulator, build_emulator
from mockserver.kinds.auth import Principal
from mockserver.kinds.params import ParamSpec

TEXT = st.text(alphabet=string.ascii_letters + string.digits + " -", min_size=1, max_size=24)
MAX_DRAWN = 10_000


@cache
def _emulator(schemas_dir: Path = DEFAULT_SCHEMAS_DIR, fixtures_dir: Path = DEFAULT_FIXTURES_DIR) -> Emulator:
    return build_emulator(EmulatorConfig(schemas_dir=schemas_dir, fixtures_dir=fixtures_dir))


@cache
def _store(schemas_dir: Path) -> SchemaStore:
    return SchemaStore(schemas_dir)


def _data(schemas_dir: Path | None, fixtures_dir: Path | None) -> tuple[Path, Path]:
    return schemas_dir or DEFAULT_SCHEMAS_DIR, fixtures_dir or DEFAULT_FIXTURES_DIR


def _timestamps() -> st.SearchStrategy[str]:
    start = datetime(2023, 1, 1, tzinfo=UTC)
    return st.integers(0, 4 * 365 * 86_400).map(
        lambda s: (start + timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%SZ")
    )


FORMATS: dict[str, st.SearchStrategy[str]] = {
    "date-time": _timestamps(),
    "uuid": st.uuids(version=4).map(str),
    "e164": st.from_regex(re.compile(r"\+[1-9][0-9]{9,12}"), fullmatch=True),
}


class _SchemaStrategies:
    """Strategies for the subset of JSON Schema that the vendor schemas use."""

    def __init__(self, store: SchemaStore) -> None:
        self.store = store

    def for_schema(self, schema: Any, base: Path) -> st.SearchStrategy[Any]:
        if "$ref" in schema:
            return self._reference(schema, base)
        if "const" in schema:
            return st.just(schema["const"])
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        types = schema.get("type", "object")
        if isinstance(types, list):
            return st.one_of([self.for_schema({**schema, "type": kind}, base) for kind in types])
        return self._typed(types, schema, base)

    def _reference(self, schema: Mapping[str, Any], base: Path) -> st.SearchStrategy[Any]:
        target, _, fragment = schema["$ref"].partition("#")
        path = (base.parent / target).resolve() if target else base
        node: Any = self.store.contents(path)
        for part in filter(None, fragment.split("/")):
            node = node[part]
        return self.for_schema(node, path)

    def _typed(self, kind: str, schema: Mapping[str, Any], base: Path) -> st.SearchStrategy[Any]:
        builders: dict[str, Callable[[], st.SearchStrategy[Any]]] = {
            "null": st.none,
            "boolean": st.booleans,
            "integer": lambda: st.integers(schema.get("minimum", 0), schema.get("maximum", MAX_DRAWN)),
            "number": lambda: self._number(schema),
            "string": lambda: self._string(schema),
            "array": lambda: st.lists(self.for_schema(schema.get("items", {}), base), max_size=3),
            "object": lambda: self._object(schema, base),
        }
        return builders[kind]()

    @staticmethod
    def _number(schema: Mapping[str, Any]) -> st.SearchStrategy[float]:
        low, high = schema.get("minimum", 0), schema.get("maximum", MAX_DRAWN)
        return st.integers(int(low * 100), int(high * 100)).map(lambda cents: cents / 100)

    def _string(self, schema: Mapping[str, Any]) -> st.SearchStrategy[str]:
        if schema.get("format") in FORMATS:
            return FORMATS[schema["format"]]
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return TEXT.filter(lambda text: len(text) <= schema.get("maxLength", 50))

    def _object(self, schema: Mapping[str, Any], base: Path) -> st.SearchStrategy[dict[str, Any]]:
        properties = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {name: self.for_schema(sub, base) for name, sub in properties.items() if name in required},
            optional={
                name: self.for_schema(sub, base) for name, sub in properties.items() if name not in required
            },
        )


def records(
    vendor: str,
    dataset: str | None = None,
    *,
    schemas_dir: Path | None = None,
    fixtures_dir: Path | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """Records valid (strictly) against the vendor's item schema: what its list endpoints contain.

    ``schemas_dir`` and ``fixtures_dir`` point at other declarations than the installed ones.
    """
    emulator = _emulator(*_data(schemas_dir, fixtures_dir))
    spec = emulator.vendors[vendor].datasets
    name = dataset or next(iter(spec))
    schema_path = spec[name].schema
    store = _store(emulator.config.schemas_dir)
    drawn = _SchemaStrategies(store).for_schema(store.contents(schema_path), schema_path)
    return drawn.filter(lambda record: not store.errors(schema_path, record, strict=True))


def _query(params: Mapping[str, ParamSpec]) -> st.SearchStrategy[dict[str, Any]]:
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for name, spec in params.items():
        if spec.enum is not None:
            optional[name] = st.sampled_from(spec.enum)
        elif spec.type == "integer":
            optional[name] = st.integers(spec.minimum or 0, min(spec.maximum or 50, 50))
    return st.fixed_dictionaries({}, optional=optional)


@st.composite
def _list_response(draw: st.DrawFn, vendor: str, path: str, data: tuple[Path, Path]) -> dict[str, Any]:
    emulator = _emulator(*data)
    app = emulator.apps[vendor]
    endpoint = next(e for e in emulator.vendors[vendor].endpoints if e.path == path)
    key = emulator.vendors[vendor].datasets[endpoint.dataset].key
    drawn_records = records(vendor, endpoint.dataset, schemas_dir=data[0], fixtures_dir=data[1])
    drawn = draw(st.lists(drawn_records, max_size=12, unique_by=lambda record: record[key]))
    tenant = f"strategies-{draw(st.integers(0, 2**32))}"
    app.datasets.replace(tenant, endpoint.dataset, drawn)
    query = urlencode(draw(_query(endpoint.params)))
    try:
        reply = app.endpoints[path].answer(Principal(tenant), query.encode())
    finally:
        app.datasets.forget(tenant)
    body: dict[str, Any] = orjson.loads(reply.body)
    return body


def list_responses(
    vendor: str, path: str, *, schemas_dir: Path | None = None, fixtures_dir: Path | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """Whole list responses of one endpoint: drawn records, a drawn valid query, the emulator's answer."""
    return _list_response(vendor, path, _data(schemas_dir, fixtures_dir))
