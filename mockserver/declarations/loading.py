"""Vendors as data: each ``schemas/<id>/openapi.json`` with its ``x-emulator`` blocks becomes a VendorSpec.

Loading checks everything a request will later rely on (the declaration against
``declaration.schema.json``, then cross-references: filters name declared parameters, envelopes use
variables their pager provides...), so a broken declaration stops the emulator at start-up with the
file and the place, never a request with a 500.

This is the typing boundary: a block that passed the schema check is handed to the typed model
(:mod:`mockserver.declarations.model`) as it is, and ``tests/unit/declarations/test_model_schema.py``
proves the schema and the model describe the same keys, required keys and values, so nothing downstream
needs a cast.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from mockserver.declarations.discovery import OPENAPI_FILE as OPENAPI_FILE  # noqa: PLC0414 - their old home
from mockserver.declarations.discovery import discover_vendors as discover_vendors  # noqa: PLC0414
from mockserver.declarations.model import (
    CatalogueSpec,
    DatasetSpec,
    EndpointSpec,
    ErrorTemplate,
    OptionSpec,
    VendorSpec,
    WriteSpec,
)
from mockserver.declarations.served_openapi import annotate_cursors, document_empty_values
from mockserver.documents.explain import explain, pointer
from mockserver.documents.reading import read_json, resolve_options
from mockserver.documents.schemas import SchemaStore, bundle_openapi
from mockserver.errors import DeclarationError
from mockserver.kinds.auth import AuthSpec, Credential
from mockserver.kinds.filters import Filter
from mockserver.kinds.ordering import OrderSpec
from mockserver.kinds.paging import Pager
from mockserver.kinds.params import INT64_MAX, ParamSpec, QueryPolicy
from mockserver.kinds.templates import placeholders

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

DECLARATION_SCHEMA = Path(__file__).with_name("declaration.schema.json")


@cache
def _assembled_schema() -> dict[str, Any]:
    schema = read_json(DECLARATION_SCHEMA)
    definitions = schema["$defs"]
    definitions["paging"]["oneOf"] = [style.declaration_schema() for style in Pager.kinds().values()]
    definitions["filter"] = Filter.schema_definition(definitions["filter"])
    return dict(schema)


def declaration_schema() -> dict[str, Any]:
    """``declaration.schema.json`` with the declaration blocks of every paging style and filter kind.

    The file holds what no kind owns; each kind's module declares its own block, so a new kind is
    declarable without editing the file.
    """
    return copy.deepcopy(_assembled_schema())


@cache
def _declaration_check(definition: str) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for({**_assembled_schema(), "$ref": f"#/$defs/{definition}"})


@cache
def _declaration_validator(definition: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator  # noqa: PLC0415 - only to explain a refusal

    return Draft202012Validator({**_assembled_schema(), "$ref": f"#/$defs/{definition}"})


def _check_declaration(source: Path, where: str, declaration: Any, definition: str) -> None:
    """Refuse a declaration that breaks ``declaration.schema.json``, naming the place and the rule.

    jsonschema-rs answers first (the Python library's import and walk cost a session that builds the
    emulator about 50 ms); a declaration it refuses is checked again by the Python validator, whose
    verdict stands and whose errors :func:`explain` words. jsonschema-rs is never the more lenient of the
    two here: the schema asserts no ``format``, and its patterns accept no more in jsonschema-rs than in
    Python (``$`` ends the string there; Python's also matches before a final newline). The tests of
    ``tests/unit/declarations`` refuse broken declarations through this path.
    """
    if _declaration_check(definition).is_valid(declaration):
        return
    errors = list(_declaration_validator(definition).iter_errors(declaration))
    if errors:
        raise DeclarationError(source, f"{where}{explain(errors)}")


def _auth(declaration: Mapping[str, Any]) -> AuthSpec:
    return AuthSpec(
        kind=declaration["kind"],
        header=declaration.get("header"),
        tenant_header=declaration.get("tenant_header"),
        test_credentials=tuple(
            Credential(item["key"], item.get("tenant")) for item in declaration["test_credentials"]
        ),
    )


def _params(source: Path, operation: Mapping[str, Any]) -> dict[str, ParamSpec]:
    specs: dict[str, ParamSpec] = {}
    for parameter in operation.get("parameters", []):
        if parameter.get("in") != "query":
            raise DeclarationError(
                source, f"parameter {parameter.get('name')!r}: only query parameters are emulated"
            )
        try:
            specs[parameter["name"]] = ParamSpec.from_openapi(parameter)
        except ValueError as error:
            raise DeclarationError(source, str(error)) from None
    return specs


def _response_schema(source: Path, operation: Mapping[str, Any]) -> Path:
    try:
        ref = str(operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"])
    except KeyError:
        raise DeclarationError(
            source, "a list operation needs a 200 application/json response with a $ref schema"
        ) from None
    return (source.parent / ref).resolve()


def _bound_problem(spec: ParamSpec) -> str | None:
    """Why a parameter's bounds and default cannot work together (options can move them)."""
    if spec.type == "integer" and (spec.maximum is None or spec.maximum > INT64_MAX):
        return f"integer parameter {spec.name!r} needs a maximum of at most {INT64_MAX} (64-bit)"
    low = spec.minimum if spec.minimum is not None else -INT64_MAX
    high = spec.maximum if spec.maximum is not None else INT64_MAX
    if low > high:
        return f"parameter {spec.name!r}: minimum {low} is above maximum {high}"
    if isinstance(spec.default, int) and not low <= spec.default <= high:
        return f"parameter {spec.name!r}: default {spec.default} is outside [{low}, {high}]"
    return None


def _cross_check(
    source: Path, where: str, endpoint: EndpointSpec, datasets: Mapping[str, DatasetSpec]
) -> None:
    problems: list[str] = []
    if endpoint.dataset not in datasets:
        problems.append(f"dataset {endpoint.dataset!r} is not declared")
    problems += [
        f"filter on undeclared parameter {param!r}"
        for f in endpoint.filters
        for param in f.params
        if param not in endpoint.params
    ]
    order_param = endpoint.order.param
    if order_param is not None:
        spec = endpoint.params.get(order_param)
        if spec is None or set(spec.enum or ()) != set(endpoint.order.options):
            problems.append(
                f"order parameter {order_param!r} must be declared with an enum of exactly its options"
            )
        elif spec.default is None:
            problems.append(f"order parameter {order_param!r} needs a default")
    problems += [
        f"paging parameter {name!r} is not declared"
        for name in sorted(endpoint.paging.paging_params)
        if name not in endpoint.params
    ]
    problems += [problem for spec in endpoint.params.values() if (problem := _bound_problem(spec))]
    unknown = placeholders(endpoint.envelope) - set(endpoint.paging.template_variables)
    if unknown:
        problems.append(
            f"envelope uses {sorted(unknown)}, which a {endpoint.paging.style!r} pager does not provide"
        )
    if problems:
        raise DeclarationError(source, f"{where}: " + "; ".join(problems))


def _endpoint(
    source: Path, path: str, operation: Mapping[str, Any], datasets: Mapping[str, DatasetSpec]
) -> EndpointSpec:
    declaration = operation["x-emulator"]
    where = "#" + pointer(["paths", path, "get", "x-emulator"])
    _check_declaration(source, where, declaration, "endpoint")
    dataset = datasets.get(declaration["dataset"])
    params = _params(source, operation)
    endpoint = EndpointSpec(
        path=path,
        operation_id=operation.get("operationId", path),
        summary=operation.get("summary", ""),
        docs=operation.get("externalDocs", {}).get("url", ""),
        dataset=declaration["dataset"],
        params=params,
        filters=tuple(Filter.from_declaration(item) for item in declaration.get("filters", [])),
        where=declaration.get("where", {}),
        order=OrderSpec.from_declaration(declaration["order"], dataset.key if dataset else ""),
        paging=Pager.from_declaration(declaration["paging"], params),
        envelope=declaration["envelope"],
        response_schema=_response_schema(source, operation),
    )
    _cross_check(source, where, endpoint, datasets)
    return endpoint


WRITE_METHODS = {"search": "get", "create": "post", "update": "put", "delete": "delete"}


def _write_problems(
    write: WriteSpec, datasets: Mapping[str, DatasetSpec], catalogues: Mapping[str, CatalogueSpec],
    errors: Mapping[str, Any],
) -> list[str]:  # fmt: skip
    """What makes a write declaration unusable (each problem one phrase; ``check`` prints them)."""
    problems: list[str] = []
    article = "an" if write.operation[0] in "aeiou" else "a"
    if WRITE_METHODS[write.operation] != write.method:
        problems.append(f"{article} {write.operation} operation is {WRITE_METHODS[write.operation].upper()}")
    if write.dataset is None:
        problems.append(f"{article} {write.operation} operation names its dataset")
    elif write.dataset not in datasets:
        problems.append(f"effect on undeclared dataset {write.dataset!r}")
    if write.operation in ("search", "create") and write.catalogue not in catalogues:
        problems.append(f"catalogue {write.catalogue!r} is not declared")
    if write.operation in ("update", "delete") and (
        write.key_param is None or "{" + write.key_param + "}" not in write.path
    ):
        problems.append(f"key_param {write.key_param!r} is not a parameter of the path")
    if write.operation in ("create", "update") and write.body_schema is None:
        problems.append(f"{article} {write.operation} operation needs a request body schema")
    if write.operation == "create" and (
        write.body_field is None or write.body_field not in _required(write.body_schema)
    ):
        problems.append(f"the request body schema does not require the key field {write.body_field!r}")
    named = [*write.errors.values(), *write.switches.values()]
    problems += [f"error {name!r} is not declared" for name in named if name not in errors]
    return problems


def _required(schema: Path | None) -> list[str]:
    if schema is None or not schema.is_file():
        return []
    document = read_json(schema)
    required = document.get("required", []) if isinstance(document, dict) else []
    return [str(name) for name in required] if isinstance(required, list) else []


def _body_schema(source: Path, operation: Mapping[str, Any]) -> Path | None:
    try:
        ref = str(operation["requestBody"]["content"]["application/json"]["schema"]["$ref"])
    except KeyError:
        return None
    return (source.parent / ref).resolve()


def _write(source: Path, path: str, method: str, operation: Mapping[str, Any]) -> WriteSpec:
    declaration = operation["x-emulator"]
    _check_declaration(source, "#" + pointer(["paths", path, method, "x-emulator"]), declaration, "write")
    query = [parameter for parameter in operation.get("parameters", []) if parameter.get("in") != "path"]
    patterns = {
        str(parameter["name"]): str(parameter["schema"]["pattern"])
        for parameter in query
        if "pattern" in parameter.get("schema", {})
    }
    unchecked = [  # a pattern (which bounds the length too) is checked by the write itself
        {**p, "schema": {k: v for k, v in p.get("schema", {}).items() if k not in ("pattern", "maxLength")}}
        for p in query
    ]
    params = _params(source, {"parameters": unchecked})
    path_patterns = {
        str(parameter["name"]): "[0-9]+"
        for parameter in operation.get("parameters", [])
        if parameter.get("in") == "path" and parameter.get("schema", {}).get("type") == "integer"
    }
    return WriteSpec(
        method=method,
        path=path,
        operation_id=operation.get("operationId", f"{method} {path}"),
        params=params,
        operation=declaration["operation"],
        body_schema=_body_schema(source, operation),
        patterns=patterns,
        path_patterns=path_patterns,
        dataset=declaration.get("dataset"),
        catalogue=declaration.get("catalogue"),
        match=declaration.get("match", {}),
        held_by=declaration.get("held_by"),
        envelope=declaration.get("envelope"),
        key_param=declaration.get("key_param"),
        body_field=declaration.get("body_field"),
        fields=tuple(declaration.get("fields", ())),
        empty_is_null=declaration.get("empty_is_null", False),
        copy=tuple(declaration.get("copy", ())),
        record=declaration.get("record", {}),
        new_key=declaration.get("new_key", "max_plus_one"),
        switches=declaration.get("switches", {}),
        errors=declaration.get("errors", {}),
        deferred=declaration.get("deferred"),
        status=declaration.get("status"),
        response=declaration.get("response"),
        response_fields=tuple(declaration["response_fields"]) if "response_fields" in declaration else None,
    )


def _endpoints(
    source: Path, document: Mapping[str, Any], datasets: Mapping[str, DatasetSpec]
) -> tuple[tuple[EndpointSpec, ...], tuple[WriteSpec, ...]]:
    endpoints = []
    writes = []
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method == "parameters" or not isinstance(operation, dict):
                continue
            declared = operation.get("x-emulator")
            if isinstance(declared, dict) and "operation" in declared:
                writes.append(_write(source, path, method, operation))
                continue
            if method != "get" or declared is None:
                raise DeclarationError(
                    source,
                    f"{method.upper()} {path}: only GET list operations and declared writes with"
                    " x-emulator are emulated",
                )
            endpoints.append(_endpoint(source, path, operation, datasets))
    if not endpoints:
        raise DeclarationError(source, "declares no operation")
    return tuple(endpoints), tuple(writes)


def _options(raw: Mapping[str, Any], resolved: Mapping[str, Any]) -> tuple[OptionSpec, ...]:
    declared = raw.get("x-emulator", {}).get("options", {})
    effective = resolved.get("x-emulator", {}).get("options", {})
    return tuple(
        OptionSpec(
            name=name,
            value=effective[name]["value"],
            default=spec["value"],
            choices=tuple(spec["choices"]) if "choices" in spec else None,
            assumption=spec["assumption"],
        )
        for name, spec in declared.items()
    )


def _with_option_values(document: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    options = document.get("x-emulator", {}).get("options", {})
    for name, value in overrides.items():
        options[name]["value"] = value
    return document


def load_vendor(
    directory: Path, store: SchemaStore, overrides: Mapping[str, Any] | None = None
) -> VendorSpec:
    """Read, check and resolve one vendor's declarations, with its options set by ``overrides``."""
    source = directory / OPENAPI_FILE
    raw = read_json(source)
    if not isinstance(raw, dict) or "x-emulator" not in raw:
        raise DeclarationError(source, "not an OpenAPI document with an x-emulator block")
    document = _with_option_values(resolve_options(raw, overrides or {}, source), overrides or {})
    declaration = document["x-emulator"]
    _check_declaration(source, "#/x-emulator", declaration, "vendor")
    datasets = {
        name: DatasetSpec(name, (directory / item["schema"]).resolve(), item["key"])
        for name, item in declaration["datasets"].items()
    }
    query = declaration.get("query", {})
    policy = QueryPolicy(
        repeated=query.get("repeated", "reject"),
        empty=query.get("empty", "reject"),
        unknown=query.get("unknown", "ignore"),
    )
    endpoints, writes = _endpoints(source, document, datasets)
    catalogues = {
        name: CatalogueSpec(name, (directory / item["schema"]).resolve(), Path(item["fixture"]), item["key"])
        for name, item in declaration.get("catalogues", {}).items()
    }
    for write in writes:
        problems = _write_problems(write, datasets, catalogues, declaration["errors"])
        if problems:
            where = "#" + pointer(["paths", write.path, write.method, "x-emulator"])
            raise DeclarationError(source, f"{where}: " + "; ".join(problems))
    return VendorSpec(
        id=directory.name,
        title=declaration["title"],
        docs=declaration["docs"],
        live_base_url=declaration["live_base_url"],
        hosts=tuple(declaration["hosts"]),
        content_type=declaration.get("content_type", "application/json"),
        auth=_auth(declaration["auth"]),
        datasets=datasets,
        query=policy,
        messages=query.get("messages", "plain"),
        errors={
            kind: ErrorTemplate(item["status"], item["body"], item.get("headers", {}))
            for kind, item in declaration["errors"].items()
        },
        endpoints=endpoints,
        options=_options(raw, document),
        openapi=document_empty_values(  # both annotate the fresh bundle in place
            annotate_cursors(bundle_openapi(store, document, source), endpoints), policy
        ),
        source=source,
        rate_limits=declaration.get("rate_limits"),
        live_environment=declaration["live_environment"],
        writes=writes,
        catalogues=catalogues,
    )
