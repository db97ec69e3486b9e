"""``declaration.schema.json`` and the typed declaration model cannot disagree.

The loader checks a declaration against the schema, then hands its blocks to the model's dataclasses and
TypedDicts; that hand-over is sound only while both describe the same keys. For every block the model
mirrors, these tests pin that the properties the schema allows are the fields the model reads (renamed or
read elsewhere ones named, with the reason), that the schema's required keys are the model's fields without
a default, and that the schema's enums and scalar types equal the model's Literal and scalar types. A block
added to the schema without a model counterpart fails too. Paging styles and filter kinds are declared by
their kinds (``mockserver.kinds``), which carry their own declaration, so they are left to those kinds.
"""

import dataclasses
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, TypedDict, get_args, get_type_hints, is_typeddict

import pytest

from mockserver.data.dataset import Direction
from mockserver.declarations.loading import DECLARATION_SCHEMA
from mockserver.declarations.model import (
    CatalogueSpec,
    DatasetSpec,
    Deferred,
    EndpointSpec,
    ErrorTemplate,
    LiveEnvironment,
    MatchRule,
    OptionSpec,
    OptionValue,
    RateHeaders,
    RateLimits,
    RateWindow,
    VendorSpec,
    WhereValue,
    WriteErrors,
    WriteSpec,
)
from mockserver.documents.reading import pointer_tokens, read_json
from mockserver.kinds.auth import AuthSpec, Credential
from mockserver.kinds.ordering import OrderSpec
from mockserver.kinds.params import QueryPolicy

SCHEMA: dict[str, Any] = read_json(DECLARATION_SCHEMA)

# JSON Schema's scalar types, as Python's (``number`` admits integers: float does in the type system).
JSON_TYPES: dict[str, object] = {"string": str, "integer": int, "number": float, "boolean": bool}


@dataclass(frozen=True)
class Mirror:
    """A block of the schema (a JSON pointer) and the model type that reads it.

    ``renamed`` maps a schema property to the model field holding it, or to None when the model reads it
    elsewhere; ``derived`` names model fields that do not come from this block; ``variants`` says the block
    is a ``oneOf`` whose branches each require their own keys (required keys are then not compared).
    """

    pointer: str
    model: type
    renamed: Mapping[str, str | None] = field(default_factory=dict)
    derived: frozenset[str] = frozenset()
    variants: bool = False


MIRRORS = (
    Mirror(
        "/$defs/vendor",
        VendorSpec,
        # id: the folder's name; endpoints, openapi: the document's paths and the document itself;
        # source: the file; messages: from the `query` block (see the QueryPolicy mirror); writes: the
        # document's operations with a `write` block (see the WriteSpec mirror).
        derived=frozenset({"id", "endpoints", "openapi", "source", "messages", "writes"}),
    ),
    # name: the key of the `catalogues` entry.
    Mirror("/$defs/catalogue", CatalogueSpec, derived=frozenset({"name"})),
    Mirror(
        "/$defs/write",
        WriteSpec,
        # method, path, operation_id, params, body_schema, patterns and path_patterns come from the
        # OpenAPI operation.
        derived=frozenset(
            {"method", "path", "operation_id", "params", "body_schema", "patterns", "path_patterns"}
        ),
    ),
    Mirror("/$defs/write/properties/match/additionalProperties", MatchRule),
    Mirror("/$defs/write/properties/errors", WriteErrors),
    Mirror("/$defs/write/properties/deferred", Deferred),
    Mirror("/$defs/auth", AuthSpec),
    Mirror("/$defs/auth/properties/test_credentials/items", Credential),
    # name: the key of the `datasets` entry.
    Mirror("/$defs/dataset", DatasetSpec, derived=frozenset({"name"})),
    Mirror(
        "/$defs/option",
        OptionSpec,
        renamed={
            "value": "default",  # the declared value is the default; `value` is the effective one
            "targets": None,  # applied by documents.reading.resolve_options, before the model is built
        },
        derived=frozenset({"name", "value"}),  # name: the key of the `options` entry
    ),
    # `assumption` is documentation: the contract suite's provenance reads it from the document.
    Mirror("/$defs/error", ErrorTemplate, renamed={"assumption": None}),
    Mirror(
        "/$defs/endpoint",
        EndpointSpec,
        # path, operation_id, summary, docs, params and response_schema come from the OpenAPI operation.
        derived=frozenset({"path", "operation_id", "summary", "docs", "params", "response_schema"}),
    ),
    Mirror(
        "/$defs/endpoint/properties/order",
        OrderSpec,
        renamed={"fixed": "options"},  # fixed keys are the one option named ""
        derived=frozenset({"tiebreak"}),  # the dataset's key
        variants=True,
    ),
    Mirror("/$defs/vendor/properties/query", QueryPolicy, renamed={"messages": None}),  # VendorSpec.messages
    Mirror("/$defs/vendor/properties/rate_limits", RateLimits),
    Mirror("/$defs/vendor/properties/rate_limits/properties/windows/items", RateWindow),
    Mirror("/$defs/vendor/properties/rate_limits/properties/headers", RateHeaders),
    Mirror("/$defs/vendor/properties/live_environment", LiveEnvironment),
)

# Blocks with properties that no model type mirrors here, and why.
OWNED_ELSEWHERE = {
    "/$defs/paging": "each paging style is a kind that reads its own declaration (mockserver.kinds.paging)",
    "/$defs/filter": "each filter kind reads its own declaration (mockserver.kinds.filters)",
}

# Enums of the schema and the model types that must list exactly their values.
ENUMS: tuple[tuple[str, object], ...] = (
    ("/$defs/auth/properties/kind", get_type_hints(AuthSpec)["kind"]),
    ("/$defs/vendor/properties/query/properties/repeated", get_type_hints(QueryPolicy)["repeated"]),
    ("/$defs/vendor/properties/query/properties/empty", get_type_hints(QueryPolicy)["empty"]),
    ("/$defs/vendor/properties/query/properties/unknown", get_type_hints(QueryPolicy)["unknown"]),
    ("/$defs/vendor/properties/query/properties/messages", get_type_hints(VendorSpec)["messages"]),
    ("/$defs/sortKeys/items/prefixItems/1", Direction),
    ("/$defs/write/properties/operation", get_type_hints(WriteSpec)["operation"]),
    ("/$defs/write/properties/new_key", get_type_hints(WriteSpec)["new_key"]),
)

# Scalar value types of the schema and the model types that must admit exactly them.
SCALARS: tuple[tuple[str, object], ...] = (
    ("/$defs/endpoint/properties/where/additionalProperties", WhereValue),
    ("/$defs/option/properties/value", OptionValue),
    ("/$defs/option/properties/choices/items", OptionValue),
    ("/$defs/write/properties/deferred/properties/period_days", get_type_hints(Deferred)["period_days"]),
)


def block(pointer: str) -> dict[str, Any]:
    found: Any = SCHEMA
    for token in pointer_tokens(pointer):
        found = found[int(token)] if isinstance(found, list) else found[token]
    assert isinstance(found, dict), pointer
    return found


def schema_keys(node: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """The properties a schema block allows and those it requires (a ``oneOf``'s branches united)."""
    branches = [node, *node.get("oneOf", ())]
    allowed = {name for branch in branches for name in branch.get("properties", {})}
    return allowed, set(node.get("required", ()))


def model_keys(model: type) -> tuple[set[str], set[str]]:
    """The fields a model type has and those a value must give (no default, or a required TypedDict key)."""
    if is_typeddict(model):
        required = set(getattr(model, "__required_keys__", ()))
        return required | set(getattr(model, "__optional_keys__", ())), required
    fields = dataclasses.fields(model)
    missing = (dataclasses.MISSING, dataclasses.MISSING)
    return (
        {f.name for f in fields},
        {f.name for f in fields if (f.default, f.default_factory) == missing},
    )


def model_names(mirror: Mirror, properties: set[str]) -> set[str]:
    """The model fields that hold ``properties`` (renamed ones mapped, ones read elsewhere dropped)."""
    return {held for key in properties if (held := mirror.renamed.get(key, key)) is not None}


def disagreements(mirror: Mirror) -> list[str]:
    """Every way ``mirror.model`` and its schema block differ (empty when they agree)."""
    allowed, required = schema_keys(block(mirror.pointer))
    fields, needed = model_keys(mirror.model)
    read = model_names(mirror, allowed)
    fields -= mirror.derived
    needed -= mirror.derived
    name = mirror.model.__name__
    problems = [
        f"{mirror.pointer} allows {key!r}, which {name} has no field for" for key in sorted(read - fields)
    ]
    problems += [f"{name}.{key} is no property of {mirror.pointer}" for key in sorted(fields - read)]
    if mirror.variants:
        return problems
    expected = model_names(mirror, required) & fields  # a missing field is reported above
    needed &= read
    problems += [
        f"{mirror.pointer} requires {key!r}; {name}.{key} has a default" for key in sorted(expected - needed)
    ]
    problems += [
        f"{name}.{key} has no default; {mirror.pointer} does not require it"
        for key in sorted(needed - expected)
    ]
    return problems


def enum_disagreement(pointer: str, literal: object) -> str | None:
    """How a schema enum differs from a Literal type's members (None when they are equal)."""
    node = block(pointer)
    values = set(node["enum"]) if "enum" in node else {node["const"]}
    if typing.get_origin(literal) is not Literal:
        return f"{pointer}: {literal} is not a Literal type"
    members = set(get_args(literal))
    if values == members:
        return None
    return (
        f"{pointer} lists {sorted(values - members)} beyond the model; the model {sorted(members - values)}"
    )


def scalar_disagreement(pointer: str, alias: object) -> str | None:
    """How a schema's scalar ``type`` list differs from a union type's members (None when equal)."""
    declared = block(pointer)["type"]
    wanted = {JSON_TYPES[name] for name in ([declared] if isinstance(declared, str) else declared)}
    members = set(get_args(alias)) if isinstance(alias, types.UnionType) else {alias}
    if wanted == members:
        return None
    return f"{pointer} admits {sorted(map(str, wanted))}, the model {sorted(map(str, members))}"


def object_blocks(node: object, pointer: str = "") -> Iterator[str]:
    """Pointers of every schema block that declares properties (conditions of if/then/else excluded)."""
    if isinstance(node, dict):
        if "properties" in node and pointer:
            yield pointer
        for key, value in node.items():
            if key not in {"if", "then", "else"}:
                yield from object_blocks(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from object_blocks(value, f"{pointer}/{index}")


@pytest.mark.parametrize("mirror", MIRRORS, ids=lambda mirror: mirror.model.__name__)
def test_the_model_reads_every_property_the_schema_allows_and_no_other(mirror: Mirror) -> None:
    assert disagreements(mirror) == []


@pytest.mark.parametrize(("pointer", "literal"), ENUMS, ids=[pointer for pointer, _ in ENUMS])
def test_every_enum_of_the_schema_is_the_literal_type_of_its_field(pointer: str, literal: object) -> None:
    assert enum_disagreement(pointer, literal) is None


@pytest.mark.parametrize(("pointer", "alias"), SCALARS, ids=[pointer for pointer, _ in SCALARS])
def test_scalar_values_of_the_schema_are_the_model_scalar_types(pointer: str, alias: object) -> None:
    assert scalar_disagreement(pointer, alias) is None


def orphans(schema: Mapping[str, Any]) -> list[str]:
    """Blocks of ``schema`` that neither a model type mirrors nor a kind owns."""
    mirrored = {mirror.pointer for mirror in MIRRORS}
    return [
        pointer
        for pointer in object_blocks(schema)
        if pointer not in mirrored
        and not pointer.startswith(tuple(OWNED_ELSEWHERE))
        and not pointer.startswith(tuple(f"{mirror}/oneOf/" for mirror in mirrored))  # a mirror's variants
    ]


def test_every_block_of_the_schema_has_a_model_or_a_kind_that_owns_it() -> None:
    assert orphans(SCHEMA) == []


# ---------------------------------------------------------------- the checks fail on a mismatch


@dataclass(frozen=True)
class DriftedDataset:
    """A dataset model with a typo'd field, a field the schema lacks, and an optional required key."""

    name: str
    schema_file: str  # the schema's property is `schema`
    key: str = ""  # required by the schema
    label: str = ""  # no such property


class DriftedWindow(TypedDict):
    # Class syntax reads NotRequired only with evaluated annotations: this module has no __future__ import.
    requests: int
    seconds: NotRequired[float]  # required by the schema


def test_a_model_that_drifted_from_the_schema_is_reported_field_by_field() -> None:
    problems = disagreements(Mirror("/$defs/dataset", DriftedDataset, derived=frozenset({"name"})))
    assert problems == [
        "/$defs/dataset allows 'schema', which DriftedDataset has no field for",
        "DriftedDataset.label is no property of /$defs/dataset",
        "DriftedDataset.schema_file is no property of /$defs/dataset",
        "/$defs/dataset requires 'key'; DriftedDataset.key has a default",
    ]


def test_a_typed_dict_with_a_required_key_made_optional_is_reported() -> None:
    problems = disagreements(
        Mirror("/$defs/vendor/properties/rate_limits/properties/windows/items", DriftedWindow)
    )
    assert problems == [
        "/$defs/vendor/properties/rate_limits/properties/windows/items requires 'seconds'; "
        "DriftedWindow.seconds has a default"
    ]


def test_an_enum_member_missing_from_the_literal_is_reported() -> None:
    problem = enum_disagreement("/$defs/auth/properties/kind", Literal["bearer", "basic"])
    assert problem == "/$defs/auth/properties/kind lists ['api-key'] beyond the model; the model ['basic']"


def test_a_scalar_type_missing_from_the_model_is_reported() -> None:
    problem = scalar_disagreement("/$defs/endpoint/properties/where/additionalProperties", str | int)
    assert problem is not None
    assert "bool" in problem


def test_a_schema_block_without_a_model_is_reported() -> None:
    webhooks = {"type": "object", "properties": {"url": {"type": "string"}}}
    schema = {**SCHEMA, "$defs": {**SCHEMA["$defs"], "webhook": webhooks}}
    assert orphans(schema) == ["/$defs/webhook"]
