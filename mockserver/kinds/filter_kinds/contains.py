"""``kind: contains``: ``?search=...``, free text, a case-insensitive substring of any of the fields."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from mockserver.data.dataset import Constraint, field_value
from mockserver.kinds.filters import Filter, Probe, TextContains
from mockserver.kinds.params import ParamSpec
from mockserver.kinds.settings import Settings


@dataclass(frozen=True)
class ContainsSettings(Settings):
    """A ``contains`` filter: the fields searched."""

    fields: tuple[str, ...]


class Contains(Filter):
    """``?search=...``: free text, a case-insensitive substring of any of the fields."""

    kind = "contains"
    rank = 30
    schema: ClassVar[Mapping[str, Any]] = {
        "description": "free text, a case-insensitive substring of any of `fields`.",
        "properties": {
            "fields": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 1,
                "description": "The record fields.",
            }
        },
        "required": ["fields"],
    }

    settings_class = ContainsSettings
    settings: ContainsSettings

    @property
    def record_fields(self) -> tuple[str, ...]:
        return self.settings.fields

    def constraint(self, value: Any) -> Constraint | None:
        return None if value is None else TextContains(self.settings.fields, value)

    def probes(self, spec: ParamSpec, sample: Sequence[Any]) -> Iterator[Probe]:
        text = str(field_value(sample[0], self.settings.fields[0]) or "")[-4:] if sample else ""
        if text:
            needle = text.casefold()
            yield self.probe(
                text,
                lambda item: any(
                    needle in str(field_value(item, name) or "").casefold() for name in self.settings.fields
                ),
            )
