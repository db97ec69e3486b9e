"""Filters: how query parameters narrow a list. One class per *kind*, each carrying all its knowledge.

A declaration such as ``{"param": "status", "field": "status"}`` becomes an ``equals`` filter. Each
filter turns its parameters' parsed values into a :class:`~mockserver.data.dataset.Constraint` (or None
when the values ask for no narrowing) that the dataset answers from its indexes. It also knows how to
probe itself (the queries a contract check sends and what every listed item must then satisfy), which
values list everything (the recorder), which values fixtures must match (the fixture generator), and the
JSON Schema of its declaration.

The kinds are the modules of :mod:`mockserver.kinds.filter_kinds`; each registers itself by ``kind``.
Adding a kind is adding one module there.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from mockserver.data.dataset import Constraint, Dataset, field_value, normalise
from mockserver.kinds.discovery import discover
from mockserver.kinds.params import ParamSpec, Violation
from mockserver.kinds.settings import Settings

EMPTY: frozenset[int] = frozenset()


@dataclass(frozen=True)
class FieldEquals:
    """Records whose ``field`` equals ``value``."""

    field: str
    value: Any
    case_insensitive: bool = False

    @property
    def key(self) -> Hashable:
        return ("eq", self.field, normalise(self.value, self.case_insensitive))

    def matching(self, dataset: Dataset) -> frozenset[int]:
        index = dataset.index(self.field, self.case_insensitive)
        return index.get(normalise(self.value, self.case_insensitive), EMPTY)


@dataclass(frozen=True)
class AnyFieldEquals:
    """Records where at least one of ``fields`` equals ``value``."""

    fields: tuple[str, ...]
    value: Any
    case_insensitive: bool = False

    @property
    def key(self) -> Hashable:
        return ("any", self.fields, normalise(self.value, self.case_insensitive))

    def matching(self, dataset: Dataset) -> frozenset[int]:
        return frozenset().union(
            *(
                FieldEquals(field, self.value, self.case_insensitive).matching(dataset)
                for field in self.fields
            )
        )


@dataclass(frozen=True)
class TextContains:
    """Records where any of ``fields`` contains ``needle``, ignoring case."""

    fields: tuple[str, ...]
    needle: str

    @property
    def key(self) -> Hashable:
        return ("contains", self.fields, self.needle.casefold())

    def matching(self, dataset: Dataset) -> frozenset[int]:
        needle = self.needle.casefold()
        texts = dataset.texts(self.fields)
        return frozenset(
            position for position, values in enumerate(texts) if any(needle in v for v in values)
        )


DEFAULT_KIND = "equals"
PARAM = {"type": "string", "description": "The query parameter (declared in the operation's `parameters`)."}


@dataclass(frozen=True)
class Probe:
    """One filtered request of a contract check: the query sent (empty: the parameter left out), how it
    is shown, and what every item listed must then satisfy."""

    query: Mapping[str, Any]
    label: str
    expected: Any
    matches: Callable[[Any], bool]


class Filter(ABC):
    """A declared filter, bound to its query parameter(s). Subclasses register by ``kind``.

    Class attributes a kind declares: ``kind``; ``schema``, its declaration's ``description``, the
    ``properties`` it adds to ``param`` and ``kind`` (each with a description) and the ones it
    ``required``s; ``rank``, where it is listed in the declaration reference. An instance's ``settings``
    are its declaration parsed into the kind's ``settings_class`` (a
    :class:`~mockserver.kinds.settings.Settings` whose fields are the properties of ``schema``; the kind
    re-annotates ``settings`` with it).
    """

    kind: ClassVar[str]
    schema: ClassVar[Mapping[str, Any]]
    rank: ClassVar[int] = 100
    narrows: ClassVar[bool] = True  # False: the parameter is validated only (kind ``accepted``)
    registry: ClassVar[dict[str, type[Filter]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Filter.registry[cls.kind] = cls

    settings_class: ClassVar[type[Settings]] = Settings
    settings: Settings

    def __init__(self, declaration: Mapping[str, Any]) -> None:
        self.param: str = declaration["param"]
        self.settings = self.settings_class.parse(declaration)

    @classmethod
    def kinds(cls) -> dict[str, type[Filter]]:
        """Every registered kind, in reference order (the kinds' modules are imported first)."""
        discover("mockserver.kinds.filter_kinds")
        return dict(sorted(Filter.registry.items(), key=lambda item: (item[1].rank, item[0])))

    @classmethod
    def from_declaration(cls, declaration: Mapping[str, Any]) -> Filter:
        """The filter a declaration describes (``kind`` defaults to ``equals``)."""
        return cls.kinds()[declaration.get("kind", DEFAULT_KIND)](declaration)

    @classmethod
    def schema_definition(cls, base: Mapping[str, Any]) -> dict[str, Any]:
        """The declaration's ``filter`` definition: ``base`` (its description) with every kind's fields.

        A field several kinds use is described once and names them; each kind requires its own fields.
        """
        kinds = cls.kinds()
        properties: dict[str, Any] = {"param": PARAM}
        users: dict[str, list[str]] = {}
        for name, kind in kinds.items():
            for field_name, schema in kind.schema.get("properties", {}).items():
                properties.setdefault(field_name, dict(schema))
                users.setdefault(field_name, []).append(name)
        for field_name, names in users.items():
            listed = ", ".join(f"`{name}`" for name in names)
            properties[field_name]["description"] += f" For {listed}."
        described = "; ".join(
            f"`{name}`{' (the default)' if name == DEFAULT_KIND else ''}: {_sentence(kind)}"
            for name, kind in kinds.items()
        )
        properties = {
            "param": PARAM,
            "kind": {"enum": list(kinds), "description": described + "."},
            **{k: v for k, v in properties.items() if k != "param"},
        }
        rules = [
            {
                "if": {
                    "properties": {"kind": {"const": name}},
                    **({} if name == DEFAULT_KIND else {"required": ["kind"]}),
                },
                "then": {"required": list(kind.schema["required"])},
            }
            for name, kind in kinds.items()
            if kind.schema.get("required")
        ]
        return {
            "type": "object",
            "required": ["param"],
            "properties": properties,
            "additionalProperties": False,
            "allOf": rules,
            **base,
        }

    @property
    def params(self) -> tuple[str, ...]:
        """Every query parameter this filter reads."""
        return (self.param,)

    @property
    def record_fields(self) -> tuple[str, ...]:
        """The record fields this filter compares (dotted for nested)."""
        return ()

    @abstractmethod
    def constraint(self, value: Any) -> Constraint | None:
        """The constraint for the parameter's value; None when nothing is filtered."""

    def constraint_for(self, params: Mapping[str, Any]) -> Constraint | Violation | None:
        """The constraint for a request's parsed parameters, or the Violation they commit."""
        return self.constraint(params.get(self.param))

    def probe(self, value: Any, matches: Callable[[Any], bool]) -> Probe:
        """The probe that sends ``value`` (None: leaves the parameter out)."""
        return Probe({} if value is None else {self.param: value}, f"{self.param}={value!r}", value, matches)

    def probes(self, spec: ParamSpec, sample: Sequence[Any]) -> Iterator[Probe]:
        """The requests a contract check sends, from the parameter's spec and a sample of listed items."""
        return iter(())

    def everything(self) -> dict[str, Any]:
        """The parameters that list every record (a match-all value, an include flag set)."""
        return {}

    def coverage(self, spec: ParamSpec) -> Iterator[dict[str, Any]]:
        """Queries that must each list at least one record of generated fixtures."""
        return iter(())

    def enum_choices(self, spec: ParamSpec) -> tuple[str, tuple[Any, ...]] | None:
        """For an exact match on one field with enumerated values: the field and the values that filter."""
        return None


def _sentence(kind: type[Filter]) -> str:
    return str(kind.schema["description"]).rstrip(".")


def equals_predicate(field_name: str, value: Any, case_insensitive: bool = False) -> Callable[[Any], bool]:
    """Whether an item's ``field_name`` equals ``value`` (strings ignoring case, if asked)."""

    def matches(item: Any) -> bool:
        actual = field_value(item, field_name) if isinstance(item, dict) else None
        if case_insensitive and isinstance(actual, str) and isinstance(value, str):
            return actual.casefold() == value.casefold()
        return bool(actual == value)

    return matches


def fixed_constraints(where: Mapping[str, Any]) -> tuple[Constraint, ...]:
    """Constraints an endpoint always applies (the legacy Famulor list: SMS-capable and subscribed)."""
    return tuple(FieldEquals(field, value) for field, value in where.items())
