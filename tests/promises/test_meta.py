"""Meta-tests: sweep every declaration, schema and fixture, so a new vendor is tested without new tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from mockserver.authoring.fixturegen import RECIPE_FILE, default_size, generate
from mockserver.authoring.lint import lint
from mockserver.declarations.loading import OPENAPI_FILE
from mockserver.declarations.model import VendorSpec
from mockserver.declarations.served_openapi import response_schema
from mockserver.documents.json_types import JsonObject, as_array, as_object, object_member
from mockserver.documents.reading import path_get, pointer_set, read_json
from mockserver.documents.schemas import SchemaStore, iter_schema_files
from mockserver.engine.emulator import Emulator, credential_headers
from mockserver.kinds.paging import signal_paths
from mockserver.kinds.templates import render_tree
from mockserver.state.records import fixture_path
from tests.conftest import FIXTURES, SCHEMAS, VENDORS

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


def test_every_vendor_folder_is_discovered_and_has_its_fixtures_folder(emulator: Emulator) -> None:
    folders = sorted(p.parent.name for p in SCHEMAS.glob(f"*/{OPENAPI_FILE}") if p.parent.name[0] not in "_.")
    assert VENDORS == folders == sorted(emulator.vendors)
    assert [vendor for vendor in VENDORS if not (FIXTURES / vendor).is_dir()] == []


def test_check_finds_no_problem_in_the_declarations_and_fixtures() -> None:
    """`mockserver check` (fields, envelopes at every page, hosts, parameters, seeded keys) is clean."""
    vendors, problems = lint(SCHEMAS, FIXTURES)
    assert [str(problem) for problem in problems] == []
    assert sorted(loaded.spec.id for loaded in vendors) == VENDORS


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
        applied = copy.deepcopy(document)
        for target in option.get("targets", []):
            pointer_set(applied, target, option["value"])  # as the option's default would be applied
        assert applied == document, f"{name}: a target of {option.get('targets')} is not {option['value']!r}"


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


RECIPES = [
    (vendor, read_json(path)) for vendor in VENDORS if (path := FIXTURES / vendor / RECIPE_FILE).is_file()
]


@pytest.mark.parametrize(("vendor_id", "recipe"), RECIPES, ids=[vendor for vendor, _ in RECIPES])
def test_a_recipes_examples_open_its_fixtures_verbatim(vendor_id: str, recipe: dict[str, Any]) -> None:
    """The documented examples a recipe carries are the first records of the fixture, unchanged."""
    for dataset, spec in recipe["datasets"].items():
        records = read_json(FIXTURES / vendor_id / f"{dataset}.json")["records"]
        examples = spec.get("examples", [])
        assert records[: len(examples)] == examples
        assert [list(r) for r in records[: len(examples)]] == [list(e) for e in examples], "same key order"


def test_the_fixtures_are_exactly_what_their_recipes_write() -> None:
    """The fixtures are deterministic: regenerating them changes no byte (python -m mockserver fixtures)."""
    fixtures, problems = generate(SCHEMAS, FIXTURES)
    assert problems == []
    for fixture in fixtures:
        assert fixture.path.read_text(encoding="utf-8") == fixture.text, fixture.path


HTTP_METHODS = ("get", "put", "post", "delete", "patch")


def _operations(spec: VendorSpec) -> list[tuple[str, str, JsonObject]]:
    """(path, method, operation) of every operation of the document, lists and writes."""
    paths = object_member(spec.openapi, "paths")
    return [
        (path, method, as_object(operation))
        for path in paths
        for method, operation in object_member(paths, path).items()
        if method in HTTP_METHODS
    ]


def _write_error_kinds(spec: VendorSpec, path: str, method: str) -> set[str]:
    """The error templates a write answers with: its outcomes, its switches, and validation."""
    write = next((w for w in spec.writes if (w.path, w.method) == (path, method)), None)
    if write is None:
        return set()
    kinds = {str(name) for name in write.errors.values()} | set(write.switches.values())
    return kinds | ({"invalid_parameter"} if write.body_schema is not None else set())


def _openapi_validator(spec: VendorSpec, schema: JsonObject) -> Draft202012Validator:
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
    for path, method, operation in _operations(spec):
        query = [p for p in as_array(operation.get("parameters", [])) if as_object(p).get("in") == "query"]
        kinds = endpoint_kinds | ({"invalid_parameter"} if query else set())  # a bad path id is a 404
        kinds |= _write_error_kinds(spec, path, method)
        for kind in sorted(kinds):
            template = spec.errors[kind]
            where = f"{method.upper()} {path}: {kind} ({template.status})"
            assert str(template.status) in object_member(operation, "responses"), where
            schema = response_schema(spec.openapi, path, template.status, method)
            assert schema is not None, f"{where} has no JSON schema"
            body = render_tree(template.body, SAMPLE_VARIABLES)
            errors = list(_openapi_validator(spec, schema).iter_errors(body))
            assert not errors, f"{where}: {errors[0].message}"


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
                query = {declared.param: value, **_widest_page(endpoint)}
                response = http.get(
                    f"/{vendor_id}{endpoint.path}", params=query, headers=credential_headers(spec)[0]
                )
                assert response.status_code == 200
                items = path_get(response.json(), signal_paths(endpoint.envelope)["items"])
                assert items, f"{endpoint.path}?{declared.param}={value} lists nothing"


def _widest_page(endpoint: Any) -> dict[str, Any]:
    """The query of the endpoint's largest page (at most 100 records)."""
    size = endpoint.paging.size_param
    if not size:
        return {}
    return {size: min(100, endpoint.params[size].maximum or 100)}


@pytest.mark.parametrize("vendor_id", VENDORS)
def test_every_paginated_endpoint_spans_at_least_three_pages_at_its_default_size(
    vendor_id: str, emulator: Emulator, http: httpx.Client
) -> None:
    spec = emulator.vendors[vendor_id]
    for endpoint in spec.endpoints:
        default = default_size(endpoint)
        if default is None:
            continue
        response = http.get(f"/{vendor_id}{endpoint.path}", headers=credential_headers(spec)[0])
        paths = signal_paths(endpoint.envelope)
        assert len(path_get(response.json(), paths["items"])) == default
        listed = _listed_count(http, spec, endpoint, paths)
        assert listed > 2 * default, f"{endpoint.path}: {listed} records at {default} per page"


def _listed_count(http: httpx.Client, spec: VendorSpec, endpoint: Any, paths: Any) -> int:
    """How many records the endpoint lists with no filter (every page at the widest size)."""
    response = http.get(
        f"/{spec.id}{endpoint.path}", params=_widest_page(endpoint), headers=credential_headers(spec)[0]
    )
    total = path_get(response.json(), paths.get("total"))
    return int(total) if isinstance(total, int) else len(path_get(response.json(), paths["items"]))


@pytest.mark.parametrize("vendor_id", VENDORS)
def test_free_text_parameters_document_that_empty_values_are_rejected(
    vendor_id: str, emulator: Emulator
) -> None:
    """With empty_params=reject, '?search=' is a 4xx, so the document must not call '' valid; with
    ignore, every query parameter of the served document says allowEmptyValue."""
    spec = emulator.vendors[vendor_id]
    if spec.query.empty != "reject":
        served = [
            as_object(parameter)
            for _, _, operation in _operations(spec)
            for parameter in as_array(operation.get("parameters", []))
            if as_object(parameter)["in"] == "query"
        ]
        assert all(parameter.get("allowEmptyValue") is True for parameter in served), vendor_id
        return
    for endpoint in spec.endpoints:
        for param in endpoint.params.values():
            if param.type == "string" and param.enum is None and param.format is None:
                assert (param.min_length or 0) >= 1, f"{endpoint.path}?{param.name}"
