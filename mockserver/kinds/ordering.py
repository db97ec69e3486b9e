"""Sort orders: fixed per endpoint, or chosen by a query parameter among declared options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mockserver.data.dataset import Direction, SortKey
from mockserver.documents.json_types import JsonValue, as_array, as_object

DIRECTIONS: dict[JsonValue, Direction] = {"asc": "asc", "desc": "desc"}


def _keys(pairs: JsonValue) -> tuple[SortKey, ...]:
    """``[[field, direction], ...]`` (``sortKeys`` in declaration.schema.json) as sort keys."""
    keys = []
    for pair in as_array(pairs, "sort keys"):
        field, direction = as_array(pair, "a sort key")
        keys.append((str(field), DIRECTIONS[direction]))
    return tuple(keys)


@dataclass(frozen=True)
class OrderSpec:
    """``{"fixed": [[field, dir], ...]}`` or ``{"param": name, "options": {value: [[field, dir], ...]}}``.

    The dataset's key field is always appended as the last, ascending key, so every order is total
    and stable: the same request lists the same records in the same order, page after page.
    """

    param: str | None
    options: Mapping[str, tuple[SortKey, ...]]
    tiebreak: str

    @classmethod
    def from_declaration(cls, declaration: Mapping[str, JsonValue], tiebreak: str) -> OrderSpec:
        """Parse an endpoint's ``order`` declaration (already checked against declaration.schema.json)."""
        if "fixed" in declaration:
            return cls(None, {"": _keys(declaration["fixed"])}, tiebreak)
        options = {
            name: _keys(pairs) for name, pairs in as_object(declaration["options"], "order options").items()
        }
        return cls(str(declaration["param"]), options, tiebreak)

    def keys_for(self, params: Mapping[str, object]) -> tuple[SortKey, ...]:
        """The sort keys for a request whose parameters are already validated."""
        chosen = self.options[str(params[self.param])] if self.param is not None else self.options[""]
        if any(field == self.tiebreak for field, _ in chosen):
            return chosen
        return (*chosen, (self.tiebreak, "asc"))
