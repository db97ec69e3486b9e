"""``kind: equals-any``: ``?bound_to_agent_uuid=...``, any of several fields equals the value."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from mockserver.data.dataset import Constraint, field_value
from mockserver.kinds.filters import AnyFieldEquals, Filter, Probe
from mockserver.kinds.params import ParamSpec
from mockserver.kinds.settings import Settings

FIELDS = {
    "type": "array",
    "items": {"type": "string"},
    "minItems": 1,
    "description": "The record fields.",
}


@dataclass(frozen=True)
class EqualsAnySettings(Settings):
    """An ``equals-any`` filter: the fields, and whether case is ignored."""

    fields: tuple[str, ...]
    case_insensitive: bool = False


def _any_equals(fields: tuple[str, ...], value: Any) -> Callable[[Any], bool]:
    return lambda item: any(field_value(item, name) == value for name in fields)


class EqualsAny(Filter):
    """``?bound_to_agent_uuid=...``: any of several fields equals the value."""

    kind = "equals-any"
    rank = 20
    schema: ClassVar[Mapping[str, Any]] = {
        "description": "any of `fields` equals the value.",
        "properties": {
            "fields": FIELDS,
            "case_insensitive": {"type": "boolean", "description": "Compare strings ignoring case."},
        },
        "required": ["fields"],
    }

    settings_class = EqualsAnySettings
    settings: EqualsAnySettings

    @property
    def record_fields(self) -> tuple[str, ...]:
        return self.settings.fields

    def constraint(self, value: Any) -> Constraint | None:
        return (
            None
            if value is None
            else AnyFieldEquals(self.settings.fields, value, self.settings.case_insensitive)
        )

    def probes(self, spec: ParamSpec, sample: Sequence[Any]) -> Iterator[Probe]:
        candidates = (field_value(item, name) for item in sample for name in self.settings.fields)
        found = next((value for value in candidates if value is not None), None)
        if found is not None:
            yield self.probe(found, _any_equals(self.settings.fields, found))

    def coverage(self, spec: ParamSpec) -> Iterator[dict[str, Any]]:
        for value in spec.enum or ():
            yield {self.param: value}
