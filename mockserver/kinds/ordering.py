"""Sort orders: fixed per endpoint, or chosen by a query parameter among declared options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from mockserver.data.dataset import Direction, SortKey


def _keys(pairs: Any) -> tuple[SortKey, ...]:
    return tuple((str(field), cast(Direction, direction)) for field, direction in pairs)


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
    def from_declaration(cls, declaration: Mapping[str, Any], tiebreak: str) -> OrderSpec:
        """Parse an endpoint's ``order`` declaration."""
        if "fixed" in declaration:
            return cls(None, {"": _keys(declaration["fixed"])}, tiebreak)
        options = {name: _keys(pairs) for name, pairs in declaration["options"].items()}
        return cls(declaration["param"], options, tiebreak)

    def keys_for(self, params: Mapping[str, Any]) -> tuple[SortKey, ...]:
        """The sort keys for a request whose parameters are already validated."""
        chosen = self.options[params[self.param]] if self.param is not None else self.options[""]
        if any(field == self.tiebreak for field, _ in chosen):
            return chosen
        return (*chosen, (self.tiebreak, "asc"))
