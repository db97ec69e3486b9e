"""``style: none``: every selected record in one response."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from mockserver.kinds.paging import Page, Pager, PageRequest, SignalRole


class NoPaging(Pager):
    """Every selected record in one response."""

    style = "none"
    rank = 10
    schema: ClassVar[Mapping[str, Any]] = {
        "title": "none",
        "description": "Every selected record in one response.",
    }
    template_variables: ClassVar[Mapping[str, str]] = {
        "items": "the records (an array)",
        "total": "how many records are listed",
    }
    signal_roles: ClassVar[Mapping[SignalRole, str]] = {"total": "total"}

    def page(self, request: PageRequest) -> Page:
        members = request.selection.members
        return Page(members, {"total": len(members)})
