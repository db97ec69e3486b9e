"""``kind: include-flag``: ``?include_external=1``, flagged records are listed only when asked for."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from mockserver.data.dataset import Constraint, field_value
from mockserver.kinds.filters import FieldEquals, Filter, Probe
from mockserver.kinds.params import ParamSpec


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

    def __init__(self, declaration: Mapping[str, Any]) -> None:
        super().__init__(declaration)
        self.field: str = declaration["field"]
        self.true_values: frozenset[str] = frozenset(declaration["true_values"])

    def constraint(self, value: Any) -> Constraint | None:
        return None if value in self.true_values else FieldEquals(self.field, False)

    def probes(self, spec: ParamSpec, sample: Sequence[Any]) -> Iterator[Probe]:
        yield self.probe(None, lambda item: field_value(item, self.field) is not True)

    def everything(self) -> dict[str, Any]:
        return {self.param: sorted(self.true_values)[0]} if self.true_values else {}
