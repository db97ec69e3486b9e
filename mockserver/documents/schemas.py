"""The JSON Schemas under ``schemas/``: loading, validation (lenient and strict) and OpenAPI bundling.

Schemas refer to each other by relative file path (``"../_shared/e164.json"``), so any tool that
reads them from disk resolves the references; here every file is registered under its ``file://``
URI. *Lenient* validation is the schema as written (``format`` is an annotation). *Strict*
validation closes every object that lists its ``properties`` and asserts ``format`` (``date-time``,
``uuid`` and ``e164``): it is what the emulator's own output and fixtures are held to.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mockserver.documents.reading import read_json
from mockserver.errors import DeclarationError

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
NON_SCHEMA_FILES = frozenset({"openapi.json"})


def is_e164(value: object) -> bool:
    """True for a string in E.164 form ('+', 7 to 15 digits, no leading zero)."""
    return not isinstance(value, str) or E164.match(value) is not None


def is_rfc3339(value: object) -> bool:
    """True for an RFC 3339 date-time with a real calendar date and time."""
    if not isinstance(value, str):
        return True
    if RFC3339.match(value) is None:
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def is_uuid(value: object) -> bool:
    """True for a canonical, hyphenated UUID."""
    if not isinstance(value, str):
        return True
    if UUID.match(value) is None:
        return False
    uuid.UUID(value)
    return True


def strict_format_checker() -> FormatChecker:
    """A format checker for the formats our schemas use, with no optional dependency behind it."""
    checker = FormatChecker(formats=())
    checker.checks("e164")(is_e164)
    checker.checks("date-time")(is_rfc3339)
    checker.checks("uuid")(is_uuid)
    return checker


SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs")
SUBSCHEMA_SINGLES = ("items", "additionalProperties", "contains")
COMBINATOR_LISTS = ("allOf", "anyOf", "oneOf")
COMBINATOR_SINGLES = ("if", "then", "else", "not")


def close_objects(schema: Any, closing: bool = True) -> Any:
    """A copy of ``schema`` in which every object that lists ``properties`` allows no others.

    It uses ``unevaluatedProperties: false``, so properties that an ``allOf`` or ``if``/``then`` branch
    evaluates still count; the branches themselves stay open (closing them would change what they match).
    Only schema keywords are walked, so a property that happens to be *named* ``properties`` is safe.
    """
    if not isinstance(schema, dict):
        return schema
    closed = dict(schema)
    for key in SUBSCHEMA_MAPS:
        if isinstance(closed.get(key), dict):
            closed[key] = {name: close_objects(sub) for name, sub in closed[key].items()}
    for key in SUBSCHEMA_SINGLES:
        if isinstance(closed.get(key), dict):
            closed[key] = close_objects(closed[key])
    if isinstance(closed.get("prefixItems"), list):
        closed["prefixItems"] = [close_objects(sub) for sub in closed["prefixItems"]]
    for key in COMBINATOR_LISTS:
        if isinstance(closed.get(key), list):
            closed[key] = [close_objects(sub, closing=False) for sub in closed[key]]
    for key in COMBINATOR_SINGLES:
        if isinstance(closed.get(key), dict):
            closed[key] = close_objects(closed[key], closing=False)
    open_ended = any(
        key in closed for key in ("additionalProperties", "patternProperties", "unevaluatedProperties")
    )
    if closing and "properties" in closed and not open_ended:
        closed["unevaluatedProperties"] = False
    return closed


def iter_schema_files(root: Path) -> Iterator[Path]:
    """Every JSON Schema file below ``root`` (OpenAPI documents excluded), in a stable order."""
    for path in sorted(root.rglob("*.json")):
        if path.name not in NON_SCHEMA_FILES:
            yield path


class SchemaStore:
    """All schema files below one root, ready to validate instances against any of them."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._contents = {path: read_json(path) for path in iter_schema_files(self.root)}
        self._checker = strict_format_checker()

    @staticmethod
    def uri(path: Path) -> str:
        """The URI a schema file is registered under."""
        return path.resolve().as_uri()

    def contents(self, path: Path) -> Any:
        """The parsed schema at ``path``."""
        try:
            return self._contents[path.resolve()]
        except KeyError:
            raise DeclarationError(path, "no such schema file under " + str(self.root)) from None

    def paths(self) -> list[Path]:
        """Every schema file of the store."""
        return list(self._contents)

    @cached_property
    def _strict_contents(self) -> dict[Path, Any]:
        return {path: close_objects(body) for path, body in self._contents.items()}

    def _registry(self, strict: bool) -> Registry[Any]:
        contents = self._strict_contents if strict else self._contents
        resources = [
            (self.uri(path), Resource.from_contents(body, DRAFT202012)) for path, body in contents.items()
        ]
        return Registry().with_resources(resources)

    @cached_property
    def _nodes(self) -> dict[int, tuple[Path, str | None]]:
        index: dict[int, tuple[Path, str | None]] = {}
        for contents in (self._contents, self._strict_contents):
            for path, body in contents.items():
                _index_nodes(body, path, None, index)
        return index

    def locate(self, node: Any) -> tuple[Path, str | None] | None:
        """The file a schema node (as a validator reports it) comes from, and its nearest ``x-source``."""
        return self._nodes.get(id(node))

    def resolve(self, file: Path, ref: str) -> tuple[Path, Any]:
        """The file and node a ``$ref`` written in ``file`` points at."""
        target, _, fragment = ref.partition("#")
        path = (file.parent / target).resolve() if target else file
        node: Any = self.contents(path)
        for token in filter(None, fragment.split("/")):
            node = node[token]
        return path, node

    @cached_property
    def _lenient_registry(self) -> Registry[Any]:
        return self._registry(strict=False)

    @cached_property
    def _strict_registry(self) -> Registry[Any]:
        return self._registry(strict=True)

    def validator(self, path: Path, *, strict: bool) -> Draft202012Validator:
        """A validator for the schema at ``path``; strict closes objects and asserts formats."""
        self.contents(path)
        registry = self._strict_registry if strict else self._lenient_registry
        return Draft202012Validator(
            {"$ref": self.uri(path)},
            registry=registry,
            format_checker=self._checker if strict else None,
        )

    @cached_property
    def _fast_registry(self) -> jsonschema_rs.Registry:
        return jsonschema_rs.Registry(
            [(self.uri(path), body) for path, body in self._strict_contents.items()]
        )

    def fast_check(self, path: Path) -> Callable[[Any], bool]:
        """A strict ``is_valid`` for bulk checks (Rust, ~100x faster); :meth:`errors` explains failures."""
        resolved = path.resolve()
        validator = jsonschema_rs.validator_for(
            self._strict_contents[resolved],
            registry=self._fast_registry,
            base_uri=self.uri(resolved),
            validate_formats=True,
            formats={"e164": is_e164, "date-time": is_rfc3339, "uuid": is_uuid},
        )
        is_valid: Callable[[Any], bool] = validator.is_valid
        return is_valid

    def errors(self, path: Path, instance: Any, *, strict: bool = True) -> list[ValidationError]:
        """Every violation of the schema at ``path`` by ``instance``, most relevant first."""
        found = self.validator(path, strict=strict).iter_errors(instance)
        return sorted(found, key=lambda error: (list(error.absolute_path), error.message))


def _index_nodes(
    node: Any, path: Path, source: str | None, index: dict[int, tuple[Path, str | None]]
) -> None:
    if isinstance(node, list):
        for item in node:
            _index_nodes(item, path, source, index)
    elif isinstance(node, dict):
        source = node.get("x-source", source)
        index[id(node)] = (path, source)
        for value in node.values():
            _index_nodes(value, path, source, index)


def describe(error: ValidationError) -> str:
    """One line a developer can act on: where in the instance, what rule, and the rule's value."""
    where = "/" + "/".join(str(part) for part in error.absolute_path)
    return f"{where}: {error.message} (schema rule {error.validator!r})"


def _component_name(path: Path, root: Path) -> str:
    relative = path.relative_to(root).with_suffix("")
    words = re.split(r"[^A-Za-z0-9]+", "-".join(relative.parts))
    return "".join(word[:1].upper() + word[1:] for word in words if word)


class _Bundler:
    """Inline every external ``$ref`` of an OpenAPI document into ``components/schemas``."""

    def __init__(self, store: SchemaStore, document: dict[str, Any], source: Path) -> None:
        self.store = store
        self.document = document
        self.source = source
        self.names: dict[Path, str] = {}
        self.components: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})

    def reference(self, ref: str, base: Path) -> str:
        file_part, _, fragment = ref.partition("#")
        target = (base.parent / file_part).resolve()
        if target not in self.names:
            name = _component_name(target, self.store.root)
            self.names[target] = name
            body = copy.deepcopy(self.store.contents(target))
            body.pop("$schema", None)
            body.pop("$id", None)
            self.components[name] = body
            self.components[name] = self.visit(body, target, f"#/components/schemas/{name}")
        return f"#/components/schemas/{self.names[target]}{fragment}"

    def visit(self, node: Any, base: Path, local_prefix: str) -> Any:
        if isinstance(node, list):
            return [self.visit(item, base, local_prefix) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: self.visit(value, base, local_prefix) for key, value in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str):
            out["$ref"] = local_prefix + ref[1:] if ref.startswith("#") else self.reference(ref, base)
        return out


def strip_extension(node: Any, key: str) -> Any:
    """A copy of ``node`` without any ``key`` entries (used to drop ``x-emulator`` from served docs)."""
    if isinstance(node, list):
        return [strip_extension(item, key) for item in node]
    if isinstance(node, dict):
        return {name: strip_extension(value, key) for name, value in node.items() if name != key}
    return node


def bundle_openapi(store: SchemaStore, document: Mapping[str, Any], source: Path) -> dict[str, Any]:
    """A self-contained copy of an OpenAPI document: external schema files become components."""
    bundled: dict[str, Any] = strip_extension(copy.deepcopy(dict(document)), "x-emulator")
    bundler = _Bundler(store, bundled, source)
    for key in [key for key in bundled if key != "components"]:
        bundled[key] = bundler.visit(bundled[key], source, "#")
    components = bundled["components"]
    for key in [key for key in components if key != "schemas"]:
        components[key] = bundler.visit(components[key], source, "#")
    return bundled
