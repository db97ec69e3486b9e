"""Value kinds of a fixture recipe: each turns a small JSON spec into a deterministic draw.

A field's spec is an object whose one kind key says how its value is drawn (``{"choice": [...]}``,
``{"deal": [["free", 29], ["assigned", 31]]}``...), plus the optional modifiers ``omit`` and ``null``
(the probability that the field is left out, or null). A field a recipe does not mention is drawn from the
record schema (kind ``schema``): an enum cycles through every value, a ``pattern`` or ``format`` is
honoured, an object gets all its properties. docs/declaration-reference.md lists every kind.
"""

from __future__ import annotations

import string
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

from mockserver.data.dataset import field_value
from mockserver.data.patterns import draw_matching
from mockserver.documents.fields import FieldSchema, resolved
from mockserver.documents.schemas import SchemaStore

WORDS = ("North", "Harbor", "Desk", "Line", "Main", "Support", "Sales", "Office", "Studio", "Field")
SCHEMA_INTEGER_SPAN = 100


class RecipeError(ValueError):
    """A recipe that cannot be drawn from; the message names the field and the spec."""


@dataclass
class Context:
    """What a draw can see: the generator, the record drawn so far, its position and the numbering plan."""

    rng: Random
    count: int
    numbers: Mapping[str, Mapping[str, Sequence[str]]]
    record: dict[str, Any] = field(default_factory=dict)
    position: int = 0


Draw = Callable[[Context], Any]


@dataclass
class Compiler:
    """Compiles field specs into draws, with the record schema at hand for the ``schema`` kind."""

    store: SchemaStore

    def field(self, name: str, spec: Any, schema: FieldSchema | None) -> Draw:
        """The draw of one field: its kind, then its ``omit``/``null`` modifiers."""
        if spec is None:
            spec = {"schema": True}
        if not isinstance(spec, Mapping):
            raise RecipeError(f"{name}: a field spec is an object such as {{'choice': [...]}}, got {spec!r}")
        kinds = [key for key in spec if key not in ("omit", "null")]
        if len(kinds) != 1 or kinds[0] not in KINDS:
            raise RecipeError(f"{name}: give exactly one kind, one of {', '.join(sorted(KINDS))}")
        draw = KINDS[kinds[0]](self, name, spec[kinds[0]], schema)
        return _modified(draw, float(spec.get("omit", 0)), float(spec.get("null", 0)))


OMITTED = object()


def _modified(draw: Draw, omit: float, null: float) -> Draw:
    if not omit and not null:
        return draw

    def modified(context: Context) -> Any:
        roll = context.rng.random()
        if roll < omit:
            return OMITTED
        return None if roll < omit + null else draw(context)

    return modified


def _weighted(compiler: Compiler, name: str, pairs: Any, schema: FieldSchema | None) -> Draw:
    values = [value for value, _ in pairs]
    weights = [weight for _, weight in pairs]
    return lambda context: context.rng.choices(values, weights=weights)[0]


def _deal(compiler: Compiler, name: str, pairs: Any, schema: FieldSchema | None) -> Draw:
    """Exact counts, shuffled over the generated records (cycling again if the counts fall short)."""
    deck: list[Any] = []

    def draw(context: Context) -> Any:
        if not deck:
            deck.extend(value for value, count in pairs for _ in range(count))
            context.rng.shuffle(deck)
        return deck[context.position % len(deck)]

    return draw


def _runs(compiler: Compiler, name: str, pairs: Any, schema: FieldSchema | None) -> Draw:
    """Exact counts in the order given: ``[[false, 78], [true, 11]]`` is 78 falses, then 11 trues."""
    deck = [value for value, count in pairs for _ in range(count)]
    return lambda context: deck[context.position % len(deck)]


def _sequence(compiler: Compiler, name: str, spec: Any, schema: FieldSchema | None) -> Draw:
    low, high = (spec.get("step", 1),) * 2 if isinstance(spec.get("step", 1), int) else spec["step"]
    current = [spec["start"] - low]

    def draw(context: Context) -> Any:
        current[0] += context.rng.randint(low, high)
        return current[0]

    return draw


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _timestamp(compiler: Compiler, name: str, spec: Any, schema: FieldSchema | None) -> Draw:
    layout = spec.get("layout", "%Y-%m-%dT%H:%M:%SZ")

    def draw(context: Context) -> str:
        start, end = _instant(spec["from"]), _instant(spec["to"])
        if "not_before" in spec:
            start = max(start, _instant(field_value(context.record, spec["not_before"])))
        span = max(0, int((end - start).total_seconds()))
        return (start + timedelta(seconds=context.rng.randint(0, span))).strftime(layout)

    return draw


def _digit(rng: Random, symbol: str) -> str:
    if symbol == "X":
        return str(rng.randrange(10))
    return str(rng.randrange(2, 10)) if symbol == "N" else symbol


def _phone(compiler: Compiler, name: str, spec: Any, schema: FieldSchema | None) -> Draw:
    """A number from the recipe's numbering plan: ``+1 212 555 01XX`` (X any digit, N 2 to 9)."""
    country = compiler.field(f"{name}.country", spec["country"], None)
    kind = compiler.field(f"{name}.kind", spec.get("kind", {"const": "local"}), None)

    def draw(context: Context) -> str:
        where, what = country(context), kind(context)
        patterns = context.numbers.get(where, {}).get(what)
        if not patterns:
            raise RecipeError(f"{name}: the recipe's numbers have no {what!r} range for {where!r}")
        pattern = context.rng.choice(patterns).replace(" ", "")
        return "".join(_digit(context.rng, symbol) for symbol in pattern)

    return draw


def _lookup(compiler: Compiler, name: str, spec: Any, schema: FieldSchema | None) -> Draw:
    """A value that follows from another field, looked up by its JSON text (``"null"``, ``"250"``)."""
    table: Mapping[str, Any] = spec["map"]

    def draw(context: Context) -> Any:
        value = field_value(context.record, spec["field"])
        key = value if isinstance(value, str) else _json_text(value)
        if key not in table:
            raise RecipeError(f"{name}: no entry for {spec['field']}={value!r} in the lookup map")
        return table[key]

    return draw


def _json_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _when(compiler: Compiler, name: str, spec: Any, schema: FieldSchema | None) -> Draw:
    """``then`` where another field has one of ``in``, otherwise ``else``."""
    chosen = compiler.field(name, spec["then"], schema)
    other = compiler.field(name, spec.get("else", {"const": None}), schema)
    accepted = spec["in"]
    return lambda context: (chosen if field_value(context.record, spec["field"]) in accepted else other)(
        context
    )


def _object(compiler: Compiler, name: str, spec: Any, schema: FieldSchema | None) -> Draw:
    draws = {
        key: compiler.field(f"{name}.{key}", sub, _child(compiler.store, schema, key))
        for key, sub in spec.items()
    }

    def draw(context: Context) -> dict[str, Any]:
        built: dict[str, Any] = {}
        if "." not in name:
            context.record[name] = built  # a later part may depend on an earlier one (compliance.status)
        for key, one in draws.items():
            value = one(context)
            if value is not OMITTED:
                built[key] = value
        return built

    return draw


def _sample(compiler: Compiler, name: str, spec: Any, schema: FieldSchema | None) -> Draw:
    population = spec["from"]
    low, high = spec.get("min", 0), spec.get("max", len(population))
    return lambda context: context.rng.sample(population, context.rng.randint(low, high))


def _child(store: SchemaStore, schema: FieldSchema | None, key: str) -> FieldSchema | None:
    if schema is None:
        return None
    for candidate in _candidates(store, schema):
        properties = candidate.node.get("properties")
        if isinstance(properties, dict) and key in properties:
            return FieldSchema(candidate.file, properties[key])
    return None


def _candidates(store: SchemaStore, schema: FieldSchema) -> list[FieldSchema]:
    out = [schema]
    ref = schema.node.get("$ref") if isinstance(schema.node, dict) else None
    if isinstance(ref, str):
        file, node = store.resolve(schema.file, ref)
        out += _candidates(store, FieldSchema(file, node))
    return out


def _from_schema(compiler: Compiler, name: str, spec: Any, schema: FieldSchema | None) -> Draw:
    if schema is None:
        raise RecipeError(f"{name}: the record schema does not declare this field; give it a kind")
    return SchemaDraw(compiler, name, schema).draw


@dataclass
class SchemaDraw:
    """A value drawn from a schema: enums cycle (every value occurs), patterns and formats hold."""

    compiler: Compiler
    name: str
    schema: FieldSchema
    _cycle: list[Any] = field(default_factory=list)

    def draw(self, context: Context) -> Any:
        node = resolved(self.compiler.store, self.schema)
        if "const" in node:
            return node["const"]
        if "enum" in node:
            return self._cycled(context, node["enum"])
        kinds = node.get("type", "object")
        kind = next((k for k in kinds if k != "null"), "null") if isinstance(kinds, list) else kinds
        return self._typed(context, kind, node)

    def _cycled(self, context: Context, values: list[Any]) -> Any:
        if not self._cycle:
            self._cycle.extend(values)
            context.rng.shuffle(self._cycle)
        return self._cycle[context.position % len(self._cycle)]

    def _typed(self, context: Context, kind: str, node: Mapping[str, Any]) -> Any:
        rng = context.rng
        low = int(node.get("minimum", 0))
        typed: dict[str, Callable[[], Any]] = {
            "null": lambda: None,
            "boolean": lambda: rng.random() < 0.5,
            "integer": lambda: rng.randint(low, int(node.get("maximum", low + SCHEMA_INTEGER_SPAN))),
            "number": lambda: round(rng.uniform(low, float(node.get("maximum", low + 10))), 2),
            "string": lambda: _string(rng, node),
            "array": lambda: [self._item(context) for _ in range(rng.randint(0, 2))],
            "object": lambda: self._object(context, node),
        }
        return typed[kind]()

    def _item(self, context: Context) -> Any:
        holder = next(
            (c for c in _candidates(self.compiler.store, self.schema) if "items" in c.node), self.schema
        )
        items = FieldSchema(holder.file, holder.node.get("items", {}))
        return SchemaDraw(self.compiler, self.name, items).draw(context)

    def _object(self, context: Context, node: Mapping[str, Any]) -> dict[str, Any]:
        file = self.schema.file
        for candidate in _candidates(self.compiler.store, self.schema):
            if "properties" in candidate.node:
                file = candidate.file
        return {
            key: SchemaDraw(self.compiler, f"{self.name}.{key}", FieldSchema(file, sub)).draw(context)
            for key, sub in node.get("properties", {}).items()
        }


def _string(rng: Random, node: Mapping[str, Any]) -> str:
    formats: dict[str, Callable[[], str]] = {
        "uuid": lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "date-time": lambda: (
            datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randint(0, 60_000_000))
        ).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "e164": lambda: "+1555" + "".join(rng.choice(string.digits) for _ in range(7)),
    }
    if node.get("format") in formats:
        return formats[node["format"]]()
    if isinstance(node.get("pattern"), str):
        return draw_matching(node["pattern"], rng)
    text = " ".join(rng.sample(WORDS, 2))
    return text[: int(node.get("maxLength", len(text)))]


KINDS: dict[str, Callable[[Compiler, str, Any, FieldSchema | None], Draw]] = {
    "const": lambda compiler, name, value, schema: lambda context: value,
    "choice": lambda compiler, name, values, schema: lambda context: context.rng.choice(values),
    "weighted": _weighted,
    "deal": _deal,
    "runs": _runs,
    "sequence": _sequence,
    "uuid": lambda compiler, name, value, schema: (
        lambda c: str(uuid.UUID(int=c.rng.getrandbits(128), version=4))
    ),
    "pattern": lambda compiler, name, pattern, schema: lambda context: draw_matching(pattern, context.rng),
    "timestamp": _timestamp,
    "phone": _phone,
    "field": lambda compiler, name, path, schema: lambda context: field_value(context.record, path),
    "lookup": _lookup,
    "when": _when,
    "object": _object,
    "sample": _sample,
    "schema": _from_schema,
}


def schema_of(store: SchemaStore, schema_file: Path) -> FieldSchema:
    """The record schema of a dataset, as the root a recipe's fields are looked up from."""
    return FieldSchema(schema_file.resolve(), store.contents(schema_file))


KIND_DOCS: dict[str, tuple[str, str]] = {
    "const": ('`{"const": value}`', "always `value`"),
    "choice": ('`{"choice": [values]}`', "one of the values, uniformly"),
    "weighted": ('`{"weighted": [[value, weight], ...]}`', "one of the values, by weight"),
    "deal": (
        '`{"deal": [[value, count], ...]}`',
        "each value exactly `count` times, shuffled over the records",
    ),
    "runs": ('`{"runs": [[value, count], ...]}`', "each value `count` times, in the order given"),
    "sequence": ('`{"sequence": {"start": n, "step": n or [low, high]}}`', "increasing integers"),
    "pattern": ('`{"pattern": "^num_[0-9]{4}$"}`', "a string matching the regular expression"),
    "uuid": ('`{"uuid": true}`', "a version-4 UUID"),
    "timestamp": (
        '`{"timestamp": {"from", "to", "layout", "not_before"}}`',
        "an instant in [from, to] (not before another field's), formatted with the strftime `layout` "
        "(default `%Y-%m-%dT%H:%M:%SZ`)",
    ),
    "phone": (
        '`{"phone": {"country": spec, "kind": spec}}`',
        "a number from the recipe's `numbers` ranges for that country and kind (default kind `local`)",
    ),
    "field": ('`{"field": "country_code"}`', "the value of a field drawn earlier (dotted paths allowed)"),
    "lookup": (
        '`{"lookup": {"field", "map": {json text: value}}}`',
        'the value the map gives another field\'s value (keys are its JSON text: `"null"`, `"250"`)',
    ),
    "when": (
        '`{"when": {"field", "in": [values], "then": spec, "else": spec}}`',
        "`then` where another field has one of the values, else `else` (default null)",
    ),
    "object": ('`{"object": {field: spec, ...}}`', "an object, field by field"),
    "sample": ('`{"sample": {"from": [values], "min", "max"}}`', "a list of distinct values from `from`"),
    "schema": (
        '`{"schema": true}` (or leave the field out)',
        "a value from the record schema: enums cycle through every value, `pattern` and `format` hold",
    ),
}
