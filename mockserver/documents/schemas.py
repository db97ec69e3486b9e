"""The JSON Schemas under ``schemas/``: loading, validation (lenient and strict) and OpenAPI bundling.

Schemas refer to each other by relative file path (``"../_shared/e164.json"``), so any tool that
reads them from disk resolves the references; here every file is registered under its ``file://``
URI. *Lenient* validation is the schema as written (``format`` is an annotation). *Strict*
validation closes every object that lists its ``properties`` and asserts ``format`` (``date-time``,
``uuid`` and ``e164``): it is what the emulator's own output and fixtures are held to.

Bulk checks (:meth:`SchemaStore.fast_check`) run jsonschema-rs on a *narrowed* copy of the strict
schemas first, with no Python callback in it: the three formats become regular expressions that accept
only values the Python checks accept, and ``unevaluatedProperties: false`` becomes
``additionalProperties: false`` where the two mean the same. A value the narrowed copy refuses is
checked again by the strict schemas with the Python format checks, whose verdict stands; so the verdict
is the strict one, and the common case costs no call into Python (see docs/performance.md).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import jsonschema_rs

from mockserver.documents.reading import read_json
from mockserver.errors import DeclarationError

if TYPE_CHECKING:  # imported where used: a store whose records all pass needs neither
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.exceptions import ValidationError
    from referencing import Registry

E164 = re.compile(r"\+[1-9][0-9]{6,14}")  # whole string (fullmatch): no trailing newline
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
NON_SCHEMA_FILES = frozenset({"openapi.json"})


def is_e164(value: object) -> bool:
    """True for a string in E.164 form ('+', 7 to 15 digits, no leading zero)."""
    return not isinstance(value, str) or E164.fullmatch(value) is not None


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
    try:
        uuid.UUID(value)  # refuses what the pattern lets through: a trailing newline
    except ValueError:
        return False
    return True


FORMAT_CHECKS: dict[str, Callable[[object], bool]] = {
    "e164": is_e164,
    "date-time": is_rfc3339,
    "uuid": is_uuid,
}

# Patterns (ECMA 262, as jsonschema-rs reads them: ``$`` is the end of the string, ASCII digits only) that
# accept a subset of what each Python check above accepts, and every value the fixtures hold: ``T`` and
# ``Z`` in capitals, a real calendar date from year 1, no leap second, offsets within +-23:59.
_YEAR = "(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_DATE = (
    f"(?:{_YEAR}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)"
    f"|(?:0[13578]|1[02])-31)|{_LEAP_YEAR}-02-29)"
)
NARROW_PATTERNS = {
    "e164": r"^\+[1-9][0-9]{6,14}$",
    "date-time": f"^{_DATE}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]+)?"
    "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$",
    "uuid": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
}


def strict_format_checker() -> FormatChecker:
    """A format checker for the formats our schemas use, with no optional dependency behind it."""
    from jsonschema import FormatChecker  # noqa: PLC0415 - see the imports

    checker = FormatChecker(formats=())
    for name, check in FORMAT_CHECKS.items():
        checker.checks(name)(check)
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


# Where subschemas sit, by keyword (what a walk over a schema follows; anything else is a value or unknown).
SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
SCHEMA_SINGLES = (
    "items", "additionalItems", "additionalProperties", "unevaluatedProperties", "unevaluatedItems",
    "contains", "propertyNames", "not", "if", "then", "else",
)  # fmt: skip
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
# A narrower subschema under these can make the whole schema accept more (``not``, a failing ``if``, ``oneOf``
# matching one branch fewer, ``maxContains``): no narrowed format may be reached through them.
WIDENING = frozenset({"not", "if", "oneOf", "contains"})
UNSUPPORTED = ("$id", "$anchor", "$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor")
# What, besides ``properties``, makes a schema evaluate properties (or may: a reference).
OTHER_PROPERTY_KEYWORDS = (
    "$ref",
    *UNSUPPORTED,
    "patternProperties",
    "additionalProperties",
    "unevaluatedProperties",
)


def _subschemas(node: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """The subschemas of a schema object, each with the keyword it sits under."""
    for key in SCHEMA_MAPS:
        if isinstance(node.get(key), dict):
            yield from ((key, sub) for sub in node[key].values())
    for key in SCHEMA_SINGLES:
        if key in node:
            yield key, node[key]
    for key in SCHEMA_LISTS:
        if isinstance(node.get(key), list):
            yield from ((key, sub) for sub in node[key])


def _in_place(node: dict[str, Any]) -> Iterator[Any]:
    """The subschemas of ``node`` that apply to the same instance (their evaluated properties count)."""
    for key in ("allOf", "anyOf", "oneOf"):
        if key in node:
            yield from node[key] if isinstance(node[key], list) else [None]
    for key in ("not", "if", "then", "else"):
        if key in node:
            yield node[key]
    if "dependentSchemas" in node:
        yield from node["dependentSchemas"].values() if isinstance(node["dependentSchemas"], dict) else [None]


def _only_own_properties(node: dict[str, Any], names: Mapping[str, Any]) -> bool:
    """Whether no in-place subschema of ``node`` evaluates a property outside ``names``."""
    for branch in _in_place(node):
        if isinstance(branch, bool):
            continue
        if not isinstance(branch, dict) or any(word in branch for word in OTHER_PROPERTY_KEYWORDS):
            return False
        listed = branch.get("properties", {})
        if not isinstance(listed, dict) or not set(listed) <= set(names):
            return False
        if not _only_own_properties(branch, names):
            return False
    return True


def narrow(schema: Any, narrowed: set[int]) -> Any:
    """A copy of a strict schema for jsonschema-rs alone (see the module docstring); the id of every node
    whose format became a pattern is added to ``narrowed``.

    ``unevaluatedProperties: false`` becomes ``additionalProperties: false`` only where they mean the same:
    the node has no ``$ref`` and no other property keyword, and none of its in-place subschemas (``allOf``,
    ``if``/``then``, ...) evaluates a property that the node's own ``properties`` does not list.
    """
    if not isinstance(schema, dict):
        return schema
    copied = dict(schema)
    for key in SCHEMA_MAPS:
        if isinstance(copied.get(key), dict):
            copied[key] = {name: narrow(sub, narrowed) for name, sub in copied[key].items()}
    for key in SCHEMA_SINGLES:
        if key in copied:
            copied[key] = narrow(copied[key], narrowed)
    for key in SCHEMA_LISTS:
        if isinstance(copied.get(key), list):
            copied[key] = [narrow(sub, narrowed) for sub in copied[key]]
    name = copied.get("format")
    if isinstance(name, str) and name in NARROW_PATTERNS:
        pattern = {"pattern": NARROW_PATTERNS[name]}
        if "pattern" not in copied:
            del copied["format"]
            copied.update(pattern)
            narrowed.add(id(copied))
        elif isinstance(copied.get("allOf", []), list):
            del copied["format"]
            copied["allOf"] = [*copied.get("allOf", []), pattern]
            narrowed.add(id(copied))
    properties = copied.get("properties")
    if (
        copied.get("unevaluatedProperties") is False
        and isinstance(properties, dict)
        and not any(word in copied for word in OTHER_PROPERTY_KEYWORDS if word != "unevaluatedProperties")
        and _only_own_properties(copied, properties)
    ):
        del copied["unevaluatedProperties"]
        copied["additionalProperties"] = False
    return copied


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

    @cached_property
    def _checker(self) -> FormatChecker:
        return strict_format_checker()

    def _registry(self, strict: bool) -> Registry[Any]:
        from referencing import Registry, Resource  # noqa: PLC0415 - see the imports
        from referencing.jsonschema import DRAFT202012  # noqa: PLC0415

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
        from jsonschema import Draft202012Validator  # noqa: PLC0415 - see the imports

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

    @cached_property
    def _narrowed(self) -> tuple[dict[Path, Any], set[int]]:
        """The strict schemas narrowed for jsonschema-rs (:func:`narrow`), and the nodes whose format it
        turned into a pattern."""
        narrowed: set[int] = set()
        return {path: narrow(body, narrowed) for path, body in self._strict_contents.items()}, narrowed

    @cached_property
    def _narrow_registry(self) -> jsonschema_rs.Registry:
        return jsonschema_rs.Registry([(self.uri(path), body) for path, body in self._narrowed[0].items()])

    def _narrowing_holds(self, path: Path) -> bool:
        """Whether the narrowed schema at ``path`` refuses everything the strict one refuses: no format is
        left for jsonschema-rs to skip, and no narrowed format is reached under ``not``, ``if``, ``oneOf``
        or ``contains`` (nor through anything this walk does not follow)."""
        contents, narrowed = self._narrowed
        seen: set[tuple[int, bool]] = set()
        pending: list[tuple[Any, Path, bool]] = [(contents[path], path, False)]  # node, file, under WIDENING
        while pending:
            node, file, widening = pending.pop()
            if isinstance(node, list):  # not a 2020-12 subschema (``items`` of older drafts): not narrowed
                pending.extend((item, file, widening) for item in node)
            if not isinstance(node, dict) or (id(node), widening) in seen:
                continue
            seen.add((id(node), widening))
            name = node.get("format")
            if (isinstance(name, str) and name in FORMAT_CHECKS) or any(word in node for word in UNSUPPORTED):
                return False
            if widening and id(node) in narrowed:
                return False
            if "$ref" in node:
                target = _pointed(contents, file, node["$ref"])
                if target is None:
                    return False
                pending.append((target[1], target[0], widening))
            pending.extend((sub, file, widening or key in WIDENING) for key, sub in _subschemas(node))
        return True

    def fast_check(self, path: Path) -> Callable[[Any], bool]:
        """A strict ``is_valid`` for bulk checks (Rust, ~100x faster); :meth:`errors` explains failures.

        It asks the narrowed schema first (no Python call at all) and the strict schema, with the Python
        format checks, only for a value the narrowed one refuses: the verdict is always the strict one."""
        resolved = path.resolve()
        strict = jsonschema_rs.validator_for(
            self._strict_contents[resolved],
            registry=self._fast_registry,
            base_uri=self.uri(resolved),
            validate_formats=True,
            formats=FORMAT_CHECKS,
        )
        if not self._narrowing_holds(resolved):
            return cast(Callable[[Any], bool], strict.is_valid)
        first = jsonschema_rs.validator_for(
            self._narrowed[0][resolved],
            registry=self._narrow_registry,
            base_uri=self.uri(resolved),
            validate_formats=True,
        ).is_valid
        then = strict.is_valid

        def is_valid(instance: Any) -> bool:
            return bool(first(instance) or then(instance))

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


def _pointed(contents: Mapping[Path, Any], file: Path, ref: Any) -> tuple[Path, Any] | None:
    """The file and node a ``$ref`` written in ``file`` points at in ``contents``, or None."""
    if not isinstance(ref, str):
        return None
    target, _, fragment = ref.partition("#")
    path = (file.parent / target).resolve() if target else file
    if path not in contents:
        return None
    node: Any = contents[path]
    for escaped in filter(None, fragment.split("/")):
        token = escaped.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return path, node


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
            body = dict(self.store.contents(target))  # visit() below copies every node under it
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
    bundled: dict[str, Any] = strip_extension(dict(document), "x-emulator")  # a copy of every dict and list
    bundler = _Bundler(store, bundled, source)
    for key in [key for key in bundled if key != "components"]:
        bundled[key] = bundler.visit(bundled[key], source, "#")
    components = bundled["components"]
    for key in [key for key in components if key != "schemas"]:
        components[key] = bundler.visit(components[key], source, "#")
    return bundled
