"""``kind: date-range``: ``?created_after=...&created_before=...``, a timestamp field between two bounds.

A pair of query parameters bounds an ISO-8601 timestamp field (``2024-05-01T00:00:00Z``; a date alone,
``2024-05-01``, is its midnight; a timestamp without an offset is UTC). The lower bound (``param``) is
inclusive and the upper (``before_param``) exclusive unless declared otherwise (``after``/``before``:
``inclusive`` or ``exclusive``). A value that is not a timestamp gets the vendor's invalid-parameter
error. Records whose field is missing or not a timestamp are listed only when no bound is given.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from mockserver.data.dataset import Constraint, Dataset, field_value
from mockserver.kinds.filters import Filter, Probe
from mockserver.kinds.params import ParamSpec, Violation
from mockserver.kinds.settings import Settings

EPOCH = "1970-01-01T00:00:00Z"
BOUND = {"enum": ["inclusive", "exclusive"]}
Bound = Literal["inclusive", "exclusive"]


def instant(value: Any) -> datetime | None:
    """The moment an ISO-8601 text names (UTC when it names no offset), or None if it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class Between:
    """Records whose ``field`` is a timestamp within the bounds (None: unbounded on that side)."""

    field: str
    low: datetime | None
    low_inclusive: bool
    high: datetime | None
    high_inclusive: bool

    @property
    def key(self) -> Hashable:
        return ("between", self.field, self.low, self.low_inclusive, self.high, self.high_inclusive)

    def admits(self, moment: datetime | None) -> bool:
        """Whether a record's moment lies within the bounds."""
        if moment is None:
            return False
        if self.low is not None and (moment < self.low or (moment == self.low and not self.low_inclusive)):
            return False
        return self.high is None or moment < self.high or (moment == self.high and self.high_inclusive)

    def matching(self, dataset: Dataset) -> frozenset[int]:
        return frozenset(
            position
            for position, record in enumerate(dataset.records)
            if self.admits(instant(field_value(record, self.field)))
        )


@dataclass(frozen=True)
class DateRangeSettings(Settings):
    """A ``date-range`` filter: the timestamp field, the upper bound's parameter, and whether each
    bound admits a record exactly at it."""

    field: str
    before_param: str
    after: Bound = "inclusive"
    before: Bound = "exclusive"


class DateRange(Filter):
    """``?created_after=...&created_before=...``: a timestamp field between a lower and an upper bound."""

    kind = "date-range"
    rank = 50
    schema: ClassVar[Mapping[str, Any]] = {
        "description": "an ISO-8601 timestamp `field` lies between `param` (the lower bound, inclusive "
        "unless `after: exclusive`) and `before_param` (the upper bound, exclusive unless `before: "
        "inclusive`); a value that is not a timestamp is refused as an invalid parameter.",
        "properties": {
            "field": {
                "type": "string",
                "description": "The record field (dotted for nested: `compliance.status`).",
            },
            "before_param": {
                "type": "string",
                "description": "The query parameter with the upper bound (declared in `parameters`).",
            },
            "after": {
                **BOUND,
                "description": "Whether a record at the lower bound is listed (default inclusive).",
            },
            "before": {
                **BOUND,
                "description": "Whether a record at the upper bound is listed (default exclusive).",
            },
        },
        "required": ["field", "before_param"],
    }

    settings_class = DateRangeSettings
    settings: DateRangeSettings

    @property
    def params(self) -> tuple[str, ...]:
        return (self.param, self.settings.before_param)

    @property
    def record_fields(self) -> tuple[str, ...]:
        return (self.settings.field,)

    def constraint(self, value: Any) -> Constraint | None:
        found = self.constraint_for({self.param: value})
        return None if isinstance(found, Violation) else found

    def constraint_for(self, params: Mapping[str, Any]) -> Constraint | Violation | None:
        bounds: list[datetime | None] = []
        for name in self.params:
            raw = params.get(name)
            moment = instant(raw)
            if raw is not None and moment is None:
                return Violation(name, "date-time", detail="must be an ISO-8601 timestamp")
            bounds.append(moment)
        low, high = bounds
        if low is None and high is None:
            return None
        return Between(
            self.settings.field,
            low,
            self.settings.after == "inclusive",
            high,
            self.settings.before == "inclusive",
        )

    def _matches(self, query: Mapping[str, Any]) -> Callable[[Any], bool]:
        between = self.constraint_for(query)
        if not isinstance(between, Between):  # a probe's bounds are timestamps read from listed items
            return lambda item: True
        return lambda item: (
            isinstance(item, dict) and between.admits(instant(field_value(item, self.settings.field)))
        )

    def probes(self, spec: ParamSpec, sample: Sequence[Any]) -> Iterator[Probe]:
        moments = sorted(
            str(value) for item in sample if instant(value := field_value(item, self.settings.field))
        )
        if not moments:
            return
        middle = moments[len(moments) // 2]
        for query in (
            {self.param: middle},
            {self.settings.before_param: middle},
            {self.param: moments[0], self.settings.before_param: middle},
        ):
            label = "&".join(f"{name}={value!r}" for name, value in query.items())
            yield Probe(query, label, middle, self._matches(query))

    def coverage(self, spec: ParamSpec) -> Iterator[dict[str, Any]]:
        yield {self.param: EPOCH}
