"""``kind: equals`` (the default): ``?status=free``, a field equals the value."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from mockserver.data.dataset import Constraint, field_value
from mockserver.kinds.filters import FieldEquals, Filter, Probe, equals_predicate
from mockserver.kinds.params import ParamSpec
from mockserver.kinds.settings import Settings

FIELD = {"type": "string", "description": "The record field (dotted for nested: `compliance.status`)."}
CASE_INSENSITIVE = {"type": "boolean", "description": "Compare strings ignoring case."}


@dataclass(frozen=True)
class EqualsSettings(Settings):
    """An ``equals`` filter: the field, whether case is ignored, and the value meaning "no filter"."""

    field: str
    case_insensitive: bool = False
    match_all: str | None = None


class Equals(Filter):
    """``?status=free``: the field equals the value. ``match_all`` names a value meaning 'no filter'."""

    kind = "equals"
    rank = 10
    schema: ClassVar[Mapping[str, Any]] = {
        "description": "`field` equals the value.",
        "properties": {
            "field": FIELD,
            "case_insensitive": CASE_INSENSITIVE,
            "match_all": {"type": "string", "description": 'A value meaning "no filter" (`?status=all`).'},
        },
        "required": ["field"],
    }

    settings_class = EqualsSettings
    settings: EqualsSettings

    @property
    def record_fields(self) -> tuple[str, ...]:
        return (self.settings.field,)

    def constraint(self, value: Any) -> Constraint | None:
        if value is None or value == self.settings.match_all:
            return None
        return FieldEquals(self.settings.field, value, self.settings.case_insensitive)

    def probes(self, spec: ParamSpec, sample: Sequence[Any]) -> Iterator[Probe]:
        values = [v for v in (spec.enum or []) if v != self.settings.match_all] or [
            v for v in (field_value(item, self.settings.field) for item in sample[:1]) if v is not None
        ]
        for value in values:
            yield self.probe(
                value, equals_predicate(self.settings.field, value, self.settings.case_insensitive)
            )
        if spec.default is not None and spec.default != self.settings.match_all:
            yield self.probe(
                None, equals_predicate(self.settings.field, spec.default, self.settings.case_insensitive)
            )

    def everything(self) -> dict[str, Any]:
        return {} if self.settings.match_all is None else {self.param: self.settings.match_all}

    def coverage(self, spec: ParamSpec) -> Iterator[dict[str, Any]]:
        for value in spec.enum or ():
            yield {self.param: value}

    def enum_choices(self, spec: ParamSpec) -> tuple[str, tuple[Any, ...]] | None:
        values = tuple(v for v in (spec.enum or ()) if v != self.settings.match_all)
        return (self.settings.field, values) if values else None
