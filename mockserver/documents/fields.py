"""Where a record field is declared in its schema: dotted paths, followed through ``$ref``s and branches.

``billing.monthly_fee`` is looked up as ``properties.billing`` then ``properties.monthly_fee``, following
``$ref`` (to other files too) and every branch of ``allOf``/``anyOf``/``oneOf``/``then``/``else``. The
linter can then say that a filter, search or sort names a field the record schema does not have, and the
seeder can find the schema of a dataset's key.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockserver.documents.schemas import SchemaStore

COMBINATORS = ("allOf", "anyOf", "oneOf")
CONDITIONALS = ("then", "else")
MAX_DEPTH = 32


@dataclass(frozen=True)
class FieldSchema:
    """A schema node and the file it was written in (its own ``$ref``s are relative to that file)."""

    file: Path
    node: Any


def _expanded(store: SchemaStore, at: FieldSchema, depth: int = 0) -> Iterator[FieldSchema]:
    """``at`` and every schema it stands for through ``$ref`` and combinator branches."""
    if depth > MAX_DEPTH or not isinstance(at.node, dict):
        return
    yield at
    ref = at.node.get("$ref")
    if isinstance(ref, str):
        file, node = store.resolve(at.file, ref)
        yield from _expanded(store, FieldSchema(file, node), depth + 1)
    for combinator in COMBINATORS:
        for branch in at.node.get(combinator, ()):
            yield from _expanded(store, FieldSchema(at.file, branch), depth + 1)
    for conditional in CONDITIONALS:
        if isinstance(at.node.get(conditional), dict):
            yield from _expanded(store, FieldSchema(at.file, at.node[conditional]), depth + 1)


def _children(store: SchemaStore, at: FieldSchema, name: str) -> list[FieldSchema]:
    return [
        FieldSchema(candidate.file, candidate.node["properties"][name])
        for candidate in _expanded(store, at)
        if isinstance(candidate.node.get("properties"), dict) and name in candidate.node["properties"]
    ]


def field_schemas(store: SchemaStore, schema_file: Path, dotted: str) -> list[FieldSchema]:
    """Every schema that declares the field at ``dotted`` in records of ``schema_file`` (empty: none)."""
    found = [FieldSchema(schema_file.resolve(), store.contents(schema_file))]
    for name in dotted.split("."):
        found = [child for at in found for child in _children(store, at, name)]
    return found


def resolved(store: SchemaStore, at: FieldSchema) -> dict[str, Any]:
    """The keywords that apply at ``at``, merged over its ``$ref`` chain (the nearest wins)."""
    merged: dict[str, Any] = {}
    for candidate in _expanded(store, at):
        for key, value in candidate.node.items():
            merged.setdefault(key, value)
    return merged


def key_schema(store: SchemaStore, schema_file: Path, key: str) -> dict[str, Any]:
    """The merged schema of a dataset's key field (empty when the record schema does not declare it)."""
    found = field_schemas(store, schema_file, key)
    return resolved(store, found[0]) if found else {}
