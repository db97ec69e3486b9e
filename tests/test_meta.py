"""Meta-tests: sweep every declaration, schema and fixture, so a new vendor is tested without new tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from mockserver.documents import pointer_get, read_json
from mockserver.emulator import Emulator, credential_headers
from mockserver.records import fixture_path
from mockserver.schemas import SchemaStore, iter_schema_files
from mockserver.templates import render_tree
from mockserver.vendor import OPENAPI_FILE, VendorSpec, discover_vendors
from tests.conftest import FIXTURES, SCHEMAS
from tests.documented import MINDHUNTERS_REAL_VALUES, VERBATIM

VENDORS = discover_vendors(SCHEMAS)
SCHEMA_FILES = list(iter_schema_files(SCHEMAS))
SAMPLE_VARIABLES = {
    "method": "GET",
    "path": "/x",
    "route": "x",
    "allowed": "GET, HEAD",
    "header": "Authorization",
    "message": "The selected status is invalid.",
    "field": "status",
    "retry_after": 60,
}


def test_the_four_vendors_are_discovered_from_the_file_system() -> None:
    assert VENDORS == ["butter", "contactship", "famulor", "mindhunters"]


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: str(p.relative_to(SCHEMAS)))
def test_every_schema_is_valid_json_schema_2020_12_and_names_its_source(path: Path) -> None:
    schema = read_json(path)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["x-source"].startswith("https://")


@pytest.mark.parametrize("vendor_id", VENDORS)
def test_every_option_target_holds_the_option_default(vendor_id: str) -> None:
    """The raw file stays valid OpenAPI: where an option governs a value, the literal is the default."""
    document = read_json(SCHEMAS / vendor_id / OPENAPI_FILE)
    for name, option in document["x-emulator"].get("options", {}).items():
        for target in option.get("targets", []):
            assert pointer_get(document, target) == option["value"], f"{name} -> {target}"


@pytest.mark.parametrize("vendor_id", VENDORS)
def test_every_fixture_record_validates_strictly_against_its_item_schema(
    vendor_id: str, emulator: Emulator, store: SchemaStore
) -> None:
    spec = emulator.vendors[vendor_id]
    for dataset in spec.datasets.values():
        records = read_json(fixture_path(FIXTURES, vendor_id, dataset))["records"]
        validator = store.validator(dataset.schema, strict=True)
        assert records
        for record in records:
            assert not list(validator.iter_errors(record)), record


@pytest.mark.parametrize(("vendor_id", "dataset"), list(VERBATIM))
def test_documented_example_records_are_in_the_fixtures_verbatim(vendor_id: str, dataset: str) -> None:
    records = read_json(FIXTURES / vendor_id / f"{dataset}.json")["records"]
    for example in VERBATIM[(vendor_id, dataset)]:
        assert example in records
        stored = next(record for record in records if record == example)
        assert list(stored) == list(example), "same keys in the same order"


def test_mindhunters_documented_example_keeps_its_real_values() -> None:
    records = read_json(FIXTURES / "mindhunters" / "phone-numbers.json")["records"]
    example = next(
        r for r in records if r["phone_number_uuid"] == MINDHUNTERS_REAL_VALUES["phone_number_uuid"]
    )
    assert {key: example[key] for key in MINDHUNTERS_REAL_VALUES} == MINDHUNTERS_REAL_VALUES
    assert "<string>" not in json.dumps(example)


def _operations(spec: VendorSpec) -> list[tuple[str, dict[str, Any]]]:
    return [(path, item["get"]) for path, item in spec.openapi["paths"].items()]


def _response_schema(spec: VendorSpec, response: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in response:
        response = pointer_get(spec.openapi, response["$ref"][1:])
    schema: dict[str, Any] = response["content"]["application/json"]["schema"]
    return schema


def _openapi_validator(spec: VendorSpec, schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": spec.openapi["components"]})


@pytest.mark.parametrize("vendor_id", VENDORS)
def test_every_error_body_matches_the_schema_the_openapi_document_gives_its_status(
    vendor_id: str, emulator: Emulator
) -> None:
    """Each operation documents the status of every error the engine can send, with a matching schema."""
    spec = emulator.vendors[vendor_id]
    endpoint_kinds = {
        "missing_credentials",
        "invalid_credentials",
        "rate_limited",
        "server_error",
        "unavailable",
    }
    if spec.auth.tenant_header:
        endpoint_kinds.add("forbidden")
    for path, operation in _operations(spec):
        kinds = endpoint_kinds | ({"invalid_parameter"} if operation.get("parameters") else set())
        for kind in sorted(kinds):
            template = spec.errors[kind]
            assert str(template.status) in operation["responses"], f"{path}: {kind} ({template.status})"
            schema = _response_schema(spec, operation["responses"][str(template.status)])
            body = render_tree(template.body, SAMPLE_VARIABLES)
            errors = list(_openapi_validator(spec, schema).iter_errors(body))
            assert not errors, f"{path} {kind}: {errors[0].message}"


@pytest.mark.parametrize("vendor_id", VENDORS)
def test_every_declared_operation_is_served_with_a_200(
    vendor_id: str, emulator: Emulator, http: httpx.Client
) -> None:
    spec = emulator.vendors[vendor_id]
    for endpoint in spec.endpoints:
        response = http.get(f"/{vendor_id}{endpoint.path}", headers=credential_headers(spec)[0])
        assert response.status_code == 200, endpoint.path


@pytest.mark.parametrize("vendor_id", VENDORS)
def test_every_enum_filter_value_matches_at_least_one_fixture_record(
    vendor_id: str, emulator: Emulator, http: httpx.Client
) -> None:
    spec = emulator.vendors[vendor_id]
    for endpoint in spec.endpoints:
        for declared in endpoint.filters:
            for value in endpoint.params[declared.param].enum or ():
                query = {declared.param: value, **_widest_page(endpoint.paging)}
                response = http.get(
                    f"/{vendor_id}{endpoint.path}", params=query, headers=credential_headers(spec)[0]
                )
                assert response.status_code == 200
                assert _items(response.json()), f"{endpoint.path}?{declared.param}={value} lists nothing"


def _widest_page(paging: dict[str, Any] | Any) -> dict[str, Any]:
    size = {"cursor": "size_param", "page": "size_param", "offset": "limit_param"}.get(paging["style"])
    return {paging[size]: 100} if size else {}


def _items(body: dict[str, Any]) -> list[Any]:
    data = body["data"]
    items: list[Any] = data["items"] if isinstance(data, dict) else data
    return items


@pytest.mark.parametrize("vendor_id", VENDORS)
def test_every_paginated_endpoint_spans_at_least_three_pages_at_its_default_size(
    vendor_id: str, emulator: Emulator, http: httpx.Client
) -> None:
    spec = emulator.vendors[vendor_id]
    for endpoint in spec.endpoints:
        style = endpoint.paging["style"]
        if style == "none":
            continue
        size_name = endpoint.paging["limit_param" if style == "offset" else "size_param"]
        default = endpoint.params[size_name].default
        response = http.get(f"/{vendor_id}{endpoint.path}", headers=credential_headers(spec)[0])
        body = response.json()
        total = (
            body.get("count")
            or body.get("pagination", {}).get("total_count")
            or body["data"]["pagination"]["total"]
        )
        assert total > 2 * default, f"{endpoint.path}: {total} records at {default} per page"


@pytest.mark.parametrize("vendor_id", VENDORS)
def test_free_text_parameters_document_that_empty_values_are_rejected(
    vendor_id: str, emulator: Emulator
) -> None:
    """With empty_params=reject, '?search=' is a 4xx, so the document must not call '' valid."""
    spec = emulator.vendors[vendor_id]
    if spec.query.empty != "reject":
        pytest.skip(f"{vendor_id} ignores empty values")
    for endpoint in spec.endpoints:
        for param in endpoint.params.values():
            if param.type == "string" and param.enum is None and param.format is None:
                assert (param.min_length or 0) >= 1, f"{endpoint.path}?{param.name}"


def test_the_fixtures_are_exactly_what_the_generator_writes() -> None:
    """The fixtures are deterministic: regenerating them changes no byte (make fixtures)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(
        "generate_fixtures", FIXTURES.parent / "scripts" / "generate_fixtures.py"
    )
    assert spec is not None
    assert spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    sys.modules["generate_fixtures"] = generator
    spec.loader.exec_module(generator)
    for dataset in generator.DATASETS:
        expected = generator.render(dataset, generator.build(dataset))
        assert dataset.path().read_text(encoding="utf-8") == expected, dataset.fixture
