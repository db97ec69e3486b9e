"""``style: offset``: ``limit``/``offset``, the next page at the offset after the records seen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from mockserver.kinds.paging import Broken, Page, Pager, PageRequest, PageSeen, Query, SignalRole, Verdict
from mockserver.kinds.settings import Settings


@dataclass(frozen=True)
class OffsetSettings(Settings):
    """An ``offset`` block: the two parameters, what ``limit=0`` lists and what the total counts."""

    limit_param: str
    offset_param: str
    zero_limit: Literal["empty", "all"] = "empty"
    count_scope: Literal["filtered", "organization"] = "filtered"


class OffsetPaging(Pager):
    """``limit``/``offset``; ``zero_limit`` says what limit=0 means, ``count_scope`` what the total counts."""

    style = "offset"
    rank = 20
    schema: ClassVar[Mapping[str, Any]] = {
        "title": "offset",
        "description": "`limit`/`offset` paging.",
        "properties": {
            "limit_param": {
                "type": "string",
                "description": "The parameter with the page size (its default is the default size).",
            },
            "offset_param": {
                "type": "string",
                "description": "The parameter with the number of records to skip.",
            },
            "zero_limit": {
                "enum": ["empty", "all"],
                "description": "What `limit=0` lists: `empty` (nothing, the count only) or `all` (no limit).",
            },
            "count_scope": {
                "enum": ["filtered", "organization"],
                "description": "What `${total}` counts: the `filtered` records or the whole dataset "
                "(`organization`).",
            },
        },
        "required": ["limit_param", "offset_param"],
    }
    template_variables: ClassVar[Mapping[str, str]] = {
        "items": "the records of this page",
        "total": "the filtered count, or the dataset's with `count_scope: organization`",
        "limit": "the limit applied",
        "offset": "the offset applied",
    }
    signal_roles: ClassVar[Mapping[SignalRole, str]] = {"total": "total", "size": "limit"}
    settings_class = OffsetSettings
    settings: OffsetSettings

    @property
    def size_param(self) -> str:
        return self.settings.limit_param

    @property
    def paging_params(self) -> frozenset[str]:
        return frozenset({self.settings.limit_param, self.settings.offset_param})

    def page(self, request: PageRequest) -> Page:
        limit = request.params[self.settings.limit_param]
        offset = request.params[self.settings.offset_param]
        members = request.selection.members
        if limit == 0 and self.settings.zero_limit == "all":
            window = members[offset:]
        else:
            window = members[offset : offset + limit]
        total = len(members) if self.settings.count_scope == "filtered" else len(request.dataset)
        return Page(window, {"total": total, "limit": limit, "offset": offset})

    # ------------------------------------------------------------------ the client's side

    def param_roles(self) -> dict[str, str]:
        return {self.size_param: "size", self.settings.offset_param: "position"}

    def first_query(self, size: int | None) -> Query:
        return {} if size is None else {self.size_param: size, self.settings.offset_param: 0}

    def next_query(self, seen: PageSeen, size: int | None = None) -> Query | None:
        if seen.listed == 0 or (size is not None and seen.listed < size):
            return None
        name = self.settings.offset_param
        return {**seen.query, name: seen.query.get(name, 0) + seen.listed}

    def verdict(self, seen: PageSeen, size: int, number: int, distinct: int) -> Verdict:
        offset = seen.query.get(self.settings.offset_param, 0)
        total = seen.signals.get("total")
        broken = []
        if isinstance(total, int) and seen.listed != min(size, max(0, total - offset)):
            due = min(size, max(0, total - offset))
            broken.append(
                Broken(
                    "total",
                    f"offset {offset} lists {seen.listed} items; "
                    f"a total of {total} at limit {size} means {due}",
                    due,
                    seen.listed,
                )
            )
        if seen.listed < size:
            return Verdict(broken, None, complete=True)
        return Verdict(broken, {**seen.query, self.settings.offset_param: offset + size})
