"""Schema drift: validate a body leniently and strictly, and classify every difference as a finding.

Lenient validation is the schema as written (what clients rely on): a missing required field, a new
null, a changed type is an *error*; an unknown enum value a *warning*. Strict validation closes objects
and asserts formats: an undocumented field is *info*, a format change a *warning*. A documented field
missing next to an undocumented one of a compatible type, in the same object, is a *probable rename*.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema.exceptions import ValidationError

from mockserver.documents.schemas import SchemaStore


@dataclass(frozen=True)
class Drift:
    """One classified difference, before it is tied to a vendor and endpoint."""

    kind: str
    path: str
    message: str
    expected: Any
    observed: Any
    doc: str | None


def _schema_of(error: ValidationError) -> Mapping[str, Any]:
    return error.schema if isinstance(error.schema, Mapping) else {}


def json_type(value: Any) -> str:
    """The JSON type name of a Python value."""
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return {int: "integer", float: "number", str: "string", dict: "object", list: "array"}.get(
        type(value), "unknown"
    )


def pointer(parts: Iterable[Any]) -> str:
    """A JSON pointer for an instance path (``/data/0/status``)."""
    return "/" + "/".join(str(part) for part in parts)


def preview(value: Any) -> Any:
    """A short form of an observed value for reports."""
    if isinstance(value, dict):
        return {"object with keys": sorted(value)[:8]}
    if isinstance(value, list):
        return f"array of {len(value)}"
    if isinstance(value, str) and len(value) > 120:
        return value[:117] + "..."
    return value


class DriftDetector:
    """Compares bodies with one schema file of a store."""

    def __init__(self, store: SchemaStore) -> None:
        self.store = store

    def _doc(self, error: ValidationError) -> str | None:
        located = self.store.locate(error.schema)
        return located[1] if located else None

    def compare(self, schema: Path, body: Any) -> list[Drift]:
        """Every drift of ``body`` from the schema at ``schema``."""
        lenient = self.store.errors(schema, body, strict=False)
        drifts = [drift for error in lenient for drift in self._lenient(error)]
        seen = {(error.validator, pointer(error.absolute_path)) for error in lenient}
        for error in self.store.errors(schema, body, strict=True):
            if (error.validator, pointer(error.absolute_path)) not in seen:
                drifts += self._strict(error)
        return self._renames(drifts)

    def _lenient(self, error: ValidationError) -> list[Drift]:
        where, doc = pointer(error.absolute_path), self._doc(error)
        keyword = error.validator
        if keyword == "required":
            instance = error.instance if isinstance(error.instance, dict) else {}
            required = error.validator_value if isinstance(error.validator_value, list) else []
            missing = [name for name in required if name not in instance]
            return [
                Drift(
                    "required-property-missing",
                    f"{where.rstrip('/')}/{name}",
                    f"required property {name!r} is missing",
                    self._property_types(error, name),
                    None,
                    doc,
                )
                for name in missing
            ]
        if keyword == "type":
            kind = "unexpected-null" if error.instance is None else "type-mismatch"
            message = f"expected {error.validator_value}, got {json_type(error.instance)}"
            return [Drift(kind, where, message, error.validator_value, preview(error.instance), doc)]
        if keyword == "enum":
            message = f"{error.instance!r} is not one of the documented values"
            return [
                Drift(
                    "enum-value-unknown", where, message, error.validator_value, preview(error.instance), doc
                )
            ]
        return self._strict(error)

    def _strict(self, error: ValidationError) -> list[Drift]:
        where, doc = pointer(error.absolute_path), self._doc(error)
        if error.validator in ("additionalProperties", "unevaluatedProperties") and isinstance(
            error.instance, dict
        ):
            documented = set(_schema_of(error).get("properties", {}))
            extra = [name for name in error.instance if name not in documented]
            return [
                Drift(
                    "undocumented-property",
                    f"{where.rstrip('/')}/{name}",
                    f"property {name!r} is not documented",
                    sorted(documented),
                    preview(error.instance[name]),
                    doc,
                )
                for name in extra
            ]
        if error.validator == "format":
            message = f"{error.instance!r} is not a valid {error.validator_value}"
            return [
                Drift("format-mismatch", where, message, error.validator_value, preview(error.instance), doc)
            ]
        message = f"{error.message} (rule {error.validator!r})"
        return [
            Drift("constraint-violation", where, message, error.validator_value, preview(error.instance), doc)
        ]

    def _property_types(self, error: ValidationError, name: str) -> list[str]:
        subschema = _schema_of(error).get("properties", {}).get(name, {})
        located = self.store.locate(error.schema)
        if "$ref" in subschema and located is not None:
            _, subschema = self.store.resolve(located[0], subschema["$ref"])
        types = subschema.get("type", [])
        return types if isinstance(types, list) else [types]

    def _renames(self, drifts: list[Drift]) -> list[Drift]:
        missing = [d for d in drifts if d.kind == "required-property-missing"]
        extra = [d for d in drifts if d.kind == "undocumented-property"]
        merged = set()
        renames = []
        for gone in missing:
            parent = gone.path.rsplit("/", 1)[0]
            for new in extra:
                if id(new) in merged or new.path.rsplit("/", 1)[0] != parent:
                    continue
                if not gone.expected or json_type(new.observed) in gone.expected:
                    old_name, new_name = gone.path.rsplit("/", 1)[1], new.path.rsplit("/", 1)[1]
                    renames.append(
                        Drift(
                            "probable-rename",
                            gone.path,
                            f"{old_name!r} is missing and {new_name!r} appeared: renamed?",
                            old_name,
                            new_name,
                            gone.doc,
                        )
                    )
                    merged.update({id(gone), id(new)})
                    break
        return [d for d in drifts if id(d) not in merged] + renames
