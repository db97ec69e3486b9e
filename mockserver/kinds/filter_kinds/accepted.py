"""``kind: accepted``: ``?type=inbound``, a documented parameter that is validated but narrows nothing.

For a parameter whose effect the emulator does not model (Famulor's assistant type of the numbers that
can be assigned to assistants): its value is checked against the parameter's schema (an enum value
outside it gets the vendor's invalid-parameter error, as on every parameter), and then every record is
listed as without it. Declare the assumption on the parameter (``x-assumption``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from mockserver.data.dataset import Constraint
from mockserver.kinds.filters import Filter


class Accepted(Filter):
    """``?type=inbound``: validated, then every record is listed (the selection is not modelled)."""

    kind = "accepted"
    rank = 50
    narrows = False
    schema: ClassVar[Mapping[str, Any]] = {
        "description": "the value is validated against the parameter's schema and narrows nothing (what it "
        "selects is not modelled: mark the assumption on the parameter).",
        "properties": {},
    }

    def constraint(self, value: Any) -> Constraint | None:
        return None
