"""Query parameters: declared by the OpenAPI document, parsed and checked here, once per request.

The emulator understands the subset of parameter schemas the vendor documents use (``type``,
``enum``, ``default``, ``minimum``, ``maximum``, ``minLength``, ``format: uuid``); a document that uses
anything else fails at load, never silently at request time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeAlias
from urllib.parse import parse_qsl

from mockserver.documents.json_types import JsonValue
from mockserver.documents.schemas import is_uuid

RepeatPolicy = Literal["reject", "first", "last"]
EmptyPolicy = Literal["reject", "ignore"]
UnknownPolicy = Literal["ignore", "reject"]
ParamType: TypeAlias = Literal["string", "integer"]
ParamValue: TypeAlias = int | str
"""A parsed query value: an ``integer`` parameter's int, a ``string`` parameter's text."""
MAX_NAME_SHOWN = 100
SUPPORTED_KEYWORDS = frozenset({"type", "enum", "default", "minimum", "maximum", "minLength", "format"})
PARAM_TYPES: dict[str, ParamType] = {"string": "string", "integer": "integer"}
SUPPORTED_TYPES = frozenset(PARAM_TYPES)
INTEGER = re.compile(r"-?[0-9]+")
# JSON numbers the emulator echoes (current_page, offset) must fit a signed 64-bit integer, as they do in
# the vendors' backends; a document must therefore declare a maximum at most this for every integer.
INT64_MAX = 2**63 - 1
ARRAY_KEY = re.compile(r"^([^\[\]]+)\[[^\]]*\]$")


@dataclass(frozen=True)
class Violation:
    """Why one query parameter was rejected. ``rule`` names the broken rule; ``limit`` its bound."""

    field: str
    rule: str
    limit: int | None = None
    allowed: tuple[str, ...] = ()
    detail: str = ""


@dataclass(frozen=True)
class QueryPolicy:
    """How a vendor treats a repeated parameter, an empty value and an undeclared one (frameworks differ)."""

    repeated: RepeatPolicy = "reject"
    empty: EmptyPolicy = "reject"
    unknown: UnknownPolicy = "ignore"


@dataclass(frozen=True)
class ParamSpec:
    """One documented query parameter."""

    name: str
    type: ParamType
    enum: tuple[str, ...] | None = None
    default: ParamValue | None = None
    minimum: int | None = None
    maximum: int | None = None
    min_length: int | None = None
    format: str | None = None

    @classmethod
    def from_openapi(cls, parameter: Mapping[str, JsonValue]) -> ParamSpec:
        """Build from an OpenAPI parameter object; raises ValueError on what we cannot emulate."""
        name = parameter.get("name")
        schema = parameter.get("schema", {})
        if not isinstance(name, str) or not isinstance(schema, dict):
            # ValueError, as every other refusal here: the loader reports it as a declaration error
            raise ValueError(f"parameter {name!r}: needs a name and a schema object")  # noqa: TRY004
        unsupported = sorted(set(schema) - SUPPORTED_KEYWORDS)
        if unsupported:
            supported = ", ".join(sorted(SUPPORTED_KEYWORDS))
            raise ValueError(
                f"parameter {name!r}: unsupported {', '.join(unsupported)}; supported: {supported}"
            )
        kind = schema.get("type")
        if not isinstance(kind, str) or kind not in PARAM_TYPES:
            types = ", ".join(sorted(SUPPORTED_TYPES))
            raise ValueError(f"parameter {name!r}: unsupported type {kind!r}; supported: {types}")
        return cls(
            name=name,
            type=PARAM_TYPES[kind],
            enum=_strings(name, schema.get("enum")),
            default=_default(name, PARAM_TYPES[kind], schema.get("default")),
            minimum=_integer(name, "minimum", schema.get("minimum")),
            maximum=_integer(name, "maximum", schema.get("maximum")),
            min_length=_integer(name, "minLength", schema.get("minLength")),
            format=_text(name, "format", schema.get("format")),
        )

    def without_maximum(self) -> ParamSpec:
        """The same parameter with no upper bound (for page sizes that are clamped, not rejected)."""
        return replace(self, maximum=None)

    def parse(self, raw: str) -> ParamValue | Violation:
        """The typed value of ``raw``, or the Violation it commits."""
        if self.type == "integer":
            return self._parse_integer(raw)
        return self._check_string(raw)

    def _parse_integer(self, raw: str) -> int | Violation:
        if INTEGER.fullmatch(raw) is None:
            return Violation(self.name, "integer")
        negative = raw.startswith("-")
        if len(raw.lstrip("-").lstrip("0")) > 19:  # beyond any 64-bit integer: do not even parse it
            return self._out_of_range(negative)
        value = int(raw)
        if abs(value) > INT64_MAX:
            return self._out_of_range(negative)
        if self.minimum is not None and value < self.minimum:
            return Violation(self.name, "minimum", limit=self.minimum)
        if self.maximum is not None and value > self.maximum:
            return Violation(self.name, "maximum", limit=self.maximum)
        return value

    def _out_of_range(self, negative: bool) -> Violation:
        if negative:
            return Violation(
                self.name, "minimum", limit=self.minimum if self.minimum is not None else -INT64_MAX
            )
        return Violation(self.name, "maximum", limit=self.maximum if self.maximum is not None else INT64_MAX)

    def _check_string(self, raw: str) -> str | Violation:
        if self.enum is not None and raw not in self.enum:
            return Violation(self.name, "enum", allowed=self.enum)
        if self.min_length is not None and len(raw) < self.min_length:
            return Violation(self.name, "min_length", limit=self.min_length)
        if self.format == "uuid" and not is_uuid(raw):
            return Violation(self.name, "uuid")
        return raw


def _strings(name: str, value: JsonValue) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"parameter {name!r}: enum must list strings")
    return tuple(str(item) for item in value)


def _integer(name: str, keyword: str, value: JsonValue) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError(f"parameter {name!r}: {keyword} must be an integer, got {value!r}")


def _text(name: str, keyword: str, value: JsonValue) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"parameter {name!r}: {keyword} must be a string, got {value!r}")


def _default(name: str, kind: ParamType, value: JsonValue) -> ParamValue | None:
    """The default, of the parameter's own type (a string default of an integer is a typo)."""
    if kind == "integer":
        return _integer(name, "default", value)
    return _text(name, "default", value)


def split_query(query_string: bytes) -> list[tuple[str, str]]:
    """Decode a raw query string into (name, value) pairs; bytes that are not UTF-8 become surrogates."""
    text = query_string.decode("utf-8", "surrogateescape")
    return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="surrogateescape")


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _collect(
    pairs: list[tuple[str, str]], specs: Mapping[str, ParamSpec]
) -> dict[str, list[str]] | Violation:
    """Values per declared name. ``status[]=x`` is an array to PHP and Express alike: refused."""
    collected: dict[str, list[str]] = {}
    for name, value in pairs:
        array = ARRAY_KEY.match(name)
        if array is not None and array.group(1) in specs:
            return Violation(array.group(1), "repeated")
        if name in specs:
            if not _is_text(value):
                return Violation(name, "encoding")
            collected.setdefault(name, []).append(value)
    return collected


def _single(name: str, values: list[str], policy: QueryPolicy) -> str | Violation:
    if len(values) == 1:
        return values[0]
    if policy.repeated == "first":
        return values[0]
    if policy.repeated == "last":
        return values[-1]
    return Violation(name, "repeated")


def parse_query(
    query_string: bytes, specs: Mapping[str, ParamSpec], policy: QueryPolicy
) -> dict[str, Any] | Violation:
    """Typed values of every declared parameter (defaults filled in); the first violation otherwise.

    Parameters the endpoint does not declare are ignored, as the vendors' frameworks do, unless the
    policy rejects them (``unknown="reject"``, NestJS's ``forbidNonWhitelisted``).
    """
    pairs = split_query(query_string)
    if policy.unknown == "reject":
        stranger = next((name for name, _ in pairs if name not in specs and not ARRAY_KEY.match(name)), None)
        if stranger is not None:
            return Violation(stranger[:MAX_NAME_SHOWN], "unknown")
    provided = _collect(pairs, specs)
    if isinstance(provided, Violation):
        return provided
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        raw = _single(name, provided[name], policy) if name in provided else None
        if isinstance(raw, Violation):
            return raw
        if raw == "" and policy.empty == "reject":
            return Violation(name, "empty")
        if raw is None or raw == "":
            values[name] = spec.default
            continue
        parsed = spec.parse(raw)
        if isinstance(parsed, Violation):
            return parsed
        values[name] = parsed
    return values
