"""``style: page``: Laravel-style page number and size, with ``last_page``, ``from`` and ``to``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from mockserver.kinds.paging import (
    OVER_MAX,
    PAGE_PARAM,
    SIZE_PARAM,
    Broken,
    Page,
    PageRequest,
    PageSeen,
    Query,
    SignalRole,
    SizedPager,
    SizedSettings,
    Verdict,
)
from mockserver.kinds.params import ParamSpec


@dataclass(frozen=True)
class PageSettings(SizedSettings):
    """A ``page`` block: the page-number and size parameters, and what a size above the maximum does."""

    page_param: str


class PagePaging(SizedPager):
    """Laravel-style ``page``/``per_page`` with ``current_page``, ``last_page``, ``from`` and ``to``."""

    style = "page"
    rank = 30
    schema: ClassVar[Mapping[str, Any]] = {
        "title": "page",
        "description": "Page number and size (Laravel style).",
        "properties": {
            "page_param": PAGE_PARAM,
            "size_param": SIZE_PARAM,
            "over_max": OVER_MAX,
        },
        "required": ["page_param", "size_param"],
    }
    template_variables: ClassVar[Mapping[str, str]] = {
        "items": "the records of this page",
        "total": "the filtered count",
        "page": "the page number",
        "per_page": "the page size applied",
        "last_page": "the last page number (at least 1)",
        "from": "the position of the first record on the page (1-based), or null",
        "to": "the position of the last record on the page, or null",
        "has_more": "whether a later page exists",
    }
    signal_roles: ClassVar[Mapping[SignalRole, str]] = {
        "total": "total",
        "more": "has_more",
        "size": "per_page",
        "page": "page",
    }
    settings_class = PageSettings
    settings: PageSettings

    @property
    def paging_params(self) -> frozenset[str]:
        return frozenset({self.settings.page_param, self.settings.size_param})

    def request_specs(self) -> dict[str, ParamSpec]:
        return self._relaxed(self.settings.size_param)

    def page(self, request: PageRequest) -> Page:
        size_param = self.settings.size_param
        per_page = request.params[size_param]
        limit = self._size_limit(size_param)
        if limit is not None:
            per_page = min(per_page, limit)
        page = request.params[self.settings.page_param]
        members = request.selection.members
        total = len(members)
        last_page = max(1, -(-total // per_page))
        start = (page - 1) * per_page
        window = members[start : start + per_page]
        return Page(
            window,
            {
                "page": page,
                "per_page": per_page,
                "total": total,
                "last_page": last_page,
                "from": start + 1 if window else None,
                "to": start + len(window) if window else None,
                "has_more": page < last_page,
            },
        )

    # ------------------------------------------------------------------ the client's side

    def param_roles(self) -> dict[str, str]:
        return {self.size_param: "size", self.settings.page_param: "page"}

    def first_query(self, size: int | None) -> Query:
        first: Query = {self.settings.page_param: 1}
        return first if size is None else {**first, self.size_param: size}

    def next_query(self, seen: PageSeen, size: int | None = None) -> Query | None:
        if seen.listed == 0 or (
            size is not None and seen.listed < size and seen.signals.get("has_more") is not True
        ):
            return None
        name = self.settings.page_param
        return {**seen.query, name: seen.query.get(name, 1) + 1}

    def verdict(self, seen: PageSeen, size: int, number: int, distinct: int) -> Verdict:
        page = seen.query.get(self.settings.page_param, 1)
        total, count = seen.signals.get("total"), seen.listed
        last = max(1, math.ceil(total / size)) if isinstance(total, int) else None
        expected_count = _expected_count(page, last, size, total)
        promised: dict[str, Any] = {
            "page": page,
            "per_page": size,
            "last_page": last,
            "has_more": None if last is None else page < last,
            "from": (page - 1) * size + 1 if count else None,
            "to": (page - 1) * size + count if count else None,
        }
        broken = []
        for variable, expected in promised.items():
            if variable not in seen.signals or (expected is None and variable not in ("from", "to")):
                continue
            got = seen.signals[variable]
            if got != expected:
                broken.append(
                    Broken(
                        variable,
                        f"page {page} at {size} per page (total {total!r}) reports {variable} {got!r}",
                        expected,
                        got,
                    )
                )
        if expected_count is not None and count != expected_count:
            broken.append(
                Broken(
                    "total",
                    f"page {page} lists {count} items; a total of {total} at {size} per page means "
                    f"{expected_count}",
                    expected_count,
                    count,
                )
            )
        if count < size and seen.signals.get("has_more") is not True:
            return Verdict(broken, None, complete=True)
        if count == 0:
            return Verdict(broken, None)
        return Verdict(broken, {**seen.query, self.settings.page_param: page + 1})


def _expected_count(page: int, last: int | None, size: int, total: Any) -> int | None:
    """How many records page ``page`` lists, for a total at a size (None when the total is unknown)."""
    if last is None:
        return None
    if page < last:
        return size
    return max(0, total - (last - 1) * size) if page == last else 0
