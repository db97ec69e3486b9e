"""``kind: include-flag``: ``?include_external=1``, flagged records are listed only when asked for."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from mockserver.data.dataset import Constraint, field_value
from mockserver.kinds.filters import FieldEquals, Filter, Probe
from mockserver.kinds.params import ParamSpec
from mockserver.kinds.settings import Settings


@dataclass(frozen=True)
class IncludeFlagSettings(Settings):
    """An ``include-flag`` filter: the flag field and the values that include flagged records."""

    field: str
    true_values: tuple[str, ...]


class IncludeFlag(Filter):
    """``?include_external=1``: records flagged by ``field`` are listed only when the flag is true."""

    kind = "include-flag"
    rank = 40
    schema: ClassVar[Mapping[str, Any]] = {
        "description": "records whose boolean `field` is true are listed only when the value is one of "
        "`true_values`.",
        "properties": {
            "field": {
                "type": "string",
                "description": "The record field (dotted for nested: `compliance.status`).",
            },
            "true_values": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 1,
                "description": "The values that include flagged records (e.g. `1`, `true`).",
            },
        },
        "required": ["field", "true_values"],
    }

    settings_class = IncludeFlagSettings
    settings: IncludeFlagSettings

    @property
    def record_fields(self) -> tuple[str, ...]:
        return (self.settings.field,)

    def constraint(self, value: Any) -> Constraint | None:
        return None if value in self.settings.true_values else FieldEquals(self.settings.field, False)

    def probes(self, spec: ParamSpec, sample: Sequence[Any]) -> Iterator[Probe]:
        yield self.probe(None, lambda item: field_value(item, self.settings.field) is not True)

    def everything(self) -> dict[str, Any]:
        return {self.param: sorted(self.settings.true_values)[0]} if self.settings.true_values else {}
