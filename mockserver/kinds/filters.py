"""Filters: how a query parameter narrows a list. One class per *kind*, chosen by declaration.

A declaration such as ``{"param": "status", "field": "status"}`` becomes an :class:`Equals` filter.
Each filter turns the parameter's parsed value into a :class:`~mockserver.data.dataset.Constraint`
(or None when the value asks for no narrowing) that the dataset answers from its indexes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from mockserver.data.dataset import Constraint, Dataset, normalise

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


class Filter(ABC):
    """A declared filter, bound to one query parameter. Subclasses register by ``kind``."""

    kind: ClassVar[str]
    registry: ClassVar[dict[str, type[Filter]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Filter.registry[cls.kind] = cls

    def __init__(self, declaration: Mapping[str, Any]) -> None:
        self.param: str = declaration["param"]

    @classmethod
    def from_declaration(cls, declaration: Mapping[str, Any]) -> Filter:
        """The filter a declaration describes (``kind`` defaults to ``equals``)."""
        return cls.registry[declaration.get("kind", "equals")](declaration)

    @abstractmethod
    def constraint(self, value: Any) -> Constraint | None:
        """The constraint for the parameter's value; None when nothing is filtered."""


class Equals(Filter):
    """``?status=free``: the field equals the value. ``match_all`` names a value meaning 'no filter'."""

    kind = "equals"

    def __init__(self, declaration: Mapping[str, Any]) -> None:
        super().__init__(declaration)
        self.field: str = declaration["field"]
        self.case_insensitive: bool = declaration.get("case_insensitive", False)
        self.match_all: str | None = declaration.get("match_all")

    def constraint(self, value: Any) -> Constraint | None:
        if value is None or value == self.match_all:
            return None
        return FieldEquals(self.field, value, self.case_insensitive)


class EqualsAny(Filter):
    """``?bound_to_agent_uuid=...``: any of several fields equals the value."""

    kind = "equals-any"

    def __init__(self, declaration: Mapping[str, Any]) -> None:
        super().__init__(declaration)
        self.fields: tuple[str, ...] = tuple(declaration["fields"])
        self.case_insensitive: bool = declaration.get("case_insensitive", False)

    def constraint(self, value: Any) -> Constraint | None:
        return None if value is None else AnyFieldEquals(self.fields, value, self.case_insensitive)


class Contains(Filter):
    """``?search=...``: free text, a case-insensitive substring of any of the fields."""

    kind = "contains"

    def __init__(self, declaration: Mapping[str, Any]) -> None:
        super().__init__(declaration)
        self.fields: tuple[str, ...] = tuple(declaration["fields"])

    def constraint(self, value: Any) -> Constraint | None:
        return None if value is None else TextContains(self.fields, value)


class IncludeFlag(Filter):
    """``?include_external=1``: records flagged by ``field`` are listed only when the flag is true."""

    kind = "include-flag"

    def __init__(self, declaration: Mapping[str, Any]) -> None:
        super().__init__(declaration)
        self.field: str = declaration["field"]
        self.true_values: frozenset[str] = frozenset(declaration["true_values"])

    def constraint(self, value: Any) -> Constraint | None:
        return None if value in self.true_values else FieldEquals(self.field, False)


def fixed_constraints(where: Mapping[str, Any]) -> tuple[Constraint, ...]:
    """Constraints an endpoint always applies (the legacy Famulor list: SMS-capable and subscribed)."""
    return tuple(FieldEquals(field, value) for field, value in where.items())
