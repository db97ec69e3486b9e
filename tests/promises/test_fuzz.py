"""schemathesis over every operation of every vendor: positive and negative data, every check.

Each vendor's OpenAPI document is loaded from the emulator itself (``/{vendor}/openapi.json``), so
this fuzzes exactly what a user's tools would load. Bounded by the Hypothesis profile: ``ci``
(deterministic, the default) or ``deep`` (``make fuzz``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS
from schemathesis.config import SchemathesisConfig
from starlette.applications import Starlette

from mockserver import create_app
from mockserver.declarations.model import EndpointSpec
from mockserver.documents.reading import path_get, read_json
from mockserver.documents.schemas import SchemaStore
from mockserver.engine.emulator import credential_headers
from mockserver.intercept.transport import EmulatorTransport
from mockserver.kinds.paging import signal_paths
from mockserver.kinds.paging_styles.cursor import CursorPaging
from mockserver.testing.schemathesis_config import operation_tables
from mockserver.testing.schemathesis_hooks import with_integral_numbers
from tests.conftest import SCHEMAS, VENDORS, data_config

APP: Starlette = create_app(data_config())


CLIENT = httpx.Client(transport=EmulatorTransport(APP), base_url="http://fuzz.test")


def _cursor_endpoints(vendor_id: str) -> dict[str, EndpointSpec]:
    spec = APP.state.emulator.vendors[vendor_id]
    return {e.path: e for e in spec.endpoints if isinstance(e.paging, CursorPaging)}


def _cursor_paging(endpoint: EndpointSpec) -> CursorPaging:
    assert isinstance(endpoint.paging, CursorPaging)
    return endpoint.paging


def _real_cursor(
    vendor_id: str, endpoint: EndpointSpec, query: dict[str, Any], headers: dict[str, str]
) -> Any:
    """A cursor the emulator issued for this query's filters (None when there is no second page)."""
    first_page = {**query, **dict.fromkeys(_cursor_paging(endpoint).size_names, 1)}
    response = CLIENT.get(f"/{vendor_id}{endpoint.path}", params=first_page, headers=headers)
    where = signal_paths(endpoint.envelope).get("next_cursor")
    return path_get(response.json(), where) if response.is_success else None


def _schema(vendor_id: str) -> Any:
    spec = APP.state.emulator.vendors[vendor_id]
    tables = "\n".join(operation_tables(spec)).replace("[[project.operations]]", "[[operations]]")
    config = SchemathesisConfig.from_str(tables)  # the writes' accepted statuses, as the recipe's
    schema = schemathesis.openapi.from_asgi(f"/{vendor_id}/openapi.json", APP, config=config)
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    headers = credential_headers(APP.state.emulator.vendors[vendor_id])[0]
    schema.config.update(headers=headers)
    cursor_endpoints = _cursor_endpoints(vendor_id)

    @schema.hook
    def map_case(context: Any, case: Any) -> Any:
        """An opaque cursor is valid only if the server issued it: positive cases get a real one."""
        case = with_integral_numbers(case)
        endpoint = cursor_endpoints.get(case.operation.path)
        name = _cursor_paging(endpoint).settings.cursor_param if endpoint else None
        query = case.query or {}
        if endpoint and name in query and case.meta is not None and case.meta.generation.mode.is_positive:
            rest = {key: value for key, value in query.items() if key != name}
            cursor = _real_cursor(vendor_id, endpoint, rest, headers)
            case.query = rest if cursor is None else {**rest, name: cursor}
        return case

    return schema


schemas = schemathesis.pytest.parametrize(**{vendor_id: _schema(vendor_id) for vendor_id in VENDORS})


STORE = SchemaStore(SCHEMAS)


def _success_schemas(vendor_id: str, source: Path) -> dict[tuple[str, str, str, int], Path]:
    """(vendor, method, path, status) -> the schema file the vendor's document gives each 2xx body."""
    found = {}
    for path, item in read_json(source)["paths"].items():
        for method, operation in item.items():
            for status, response in operation.get("responses", {}).items():
                ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
                if status.startswith("2") and isinstance(ref, str) and not ref.startswith("#"):
                    found[(vendor_id, method.upper(), path, int(status))] = (source.parent / ref).resolve()
    return found


RESPONSE_SCHEMAS = {
    key: schema
    for vendor_id, spec in APP.state.emulator.vendors.items()
    for key, schema in _success_schemas(vendor_id, spec.source).items()
}


@pytest.mark.fuzz
@schemas
def test_no_input_breaks_a_documented_promise(case: Any) -> None:
    """No 5xx, every status documented, every body valid, auth enforced, bad input rejected.

    Successful bodies are also held to the strict schema (closed objects, formats asserted).
    """
    response = case.call_and_validate(checks=CHECKS.get_all())
    if 200 <= response.status_code < 300 and response.status_code != 204:  # 204: no body
        vendor_id = case.operation.schema.raw_schema["servers"][0]["url"].rstrip("/").rsplit("/", 1)[-1]
        key = (vendor_id, case.method.upper(), case.operation.path, response.status_code)
        assert STORE.errors(RESPONSE_SCHEMAS[key], response.json(), strict=True) == []
