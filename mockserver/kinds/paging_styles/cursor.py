"""``style: cursor``: opaque cursors, keyset continuation after the last record listed.

The next page is asked for with the ``next_cursor`` the envelope carries; the end is a page without one.
A cursor is valid only when the server issued it, so the served OpenAPI document marks the cursor
parameter with ``x-opaque-cursor`` (where a page carries the next cursor, and the page-size parameters)
for schema-driven fuzzers to fetch a real one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal

from mockserver.kinds.cursors import CursorProblem
from mockserver.kinds.paging import (
    OVER_MAX,
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
    signal_paths,
)
from mockserver.kinds.params import ParamSpec, Violation

EXTENSION = "x-opaque-cursor"


@dataclass(frozen=True)
class CursorSettings(SizedSettings):
    """A ``cursor`` block: the cursor and size parameters (and the size's aliases), what a size above
    the maximum does, and what ``${page_size}`` reports."""

    cursor_param: str
    size_aliases: tuple[str, ...] = ()
    page_size_reports: Literal["items", "requested"] = "items"


def _preview(value: Any) -> Any:
    """A cursor as a finding shows it: a long token cut short."""
    return value[:117] + "..." if isinstance(value, str) and len(value) > 120 else value


class CursorPaging(SizedPager):
    """Opaque ``cursor`` plus a page size (with aliases); keyset continuation after the last record."""

    style = "cursor"
    rank = 40
    schema: ClassVar[Mapping[str, Any]] = {
        "title": "cursor",
        "description": "Opaque cursors: keyset continuation after the last record listed.",
        "properties": {
            "cursor_param": {"type": "string", "description": "The parameter that carries the cursor."},
            "size_param": SIZE_PARAM,
            "size_aliases": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Other names for the size parameter, in order of precedence after it.",
            },
            "over_max": OVER_MAX,
            "page_size_reports": {
                "enum": ["items", "requested"],
                "description": "What `${page_size}` reports: the `items` listed or the size `requested`.",
            },
        },
        "required": ["cursor_param", "size_param"],
    }
    template_variables: ClassVar[Mapping[str, str]] = {
        "items": "the records of this page",
        "total": "the filtered count",
        "next_cursor": "the cursor of the next page, or null on the last",
        "has_more": "whether a later page exists",
        "page_size": "the number of records listed (or the size asked for, with `page_size_reports: "
        "requested`)",
    }
    signal_roles: ClassVar[Mapping[SignalRole, str]] = {
        "total": "total",
        "more": "has_more",
        "size_report": "page_size",
    }
    settings_class = CursorSettings
    settings: CursorSettings

    @property
    def size_names(self) -> tuple[str, ...]:
        """The page-size parameter and its aliases, in order of precedence."""
        return (self.settings.size_param, *self.settings.size_aliases)

    @property
    def paging_params(self) -> frozenset[str]:
        return frozenset({self.settings.cursor_param, *self.size_names})

    def request_specs(self) -> dict[str, ParamSpec]:
        specs = self._relaxed(*self.size_names)
        size_param = self.settings.size_param
        # The default is applied here, after aliases: a parsed default would hide an alias.
        specs[size_param] = replace(specs[size_param], default=None)
        return specs

    def _size(self, params: Mapping[str, Any]) -> int:
        size_param = self.settings.size_param
        size = next((params[name] for name in self.size_names if params.get(name) is not None), None)
        default = self.specs[size_param].default
        chosen: int = size if size is not None else default if isinstance(default, int) else 0
        limit = self._size_limit(size_param)
        return chosen if limit is None else min(chosen, limit)

    def _start(self, request: PageRequest) -> int | Violation:
        name = self.settings.cursor_param
        token = request.params.get(name)
        if token is None:
            return 0
        last_id = request.codec.read(token, request.scope)
        if isinstance(last_id, CursorProblem):
            return Violation(name, "cursor", detail=last_id.reason)
        position = request.dataset.positions.get(last_id)
        if position is None:
            return Violation(
                name, "cursor", detail="the record it points at no longer exists; restart the listing"
            )
        return request.selection.after(position)

    def page(self, request: PageRequest) -> Page | Violation:
        start = self._start(request)
        if isinstance(start, Violation):
            return start
        size = self._size(request.params)
        members = request.selection.members
        window = members[start : start + size]
        has_more = start + len(window) < len(members)
        next_cursor = None
        if has_more:
            last = request.dataset.records[window[-1]][request.dataset.key]
            next_cursor = request.codec.issue(last, request.scope)
        reported = len(window) if self.settings.page_size_reports == "items" else size
        return Page(
            window,
            {"next_cursor": next_cursor, "has_more": has_more, "page_size": reported, "total": len(members)},
        )

    # ------------------------------------------------------------------ the client's side

    def next_query(self, seen: PageSeen, size: int | None = None) -> Query | None:
        cursor = seen.signals.get("next_cursor")
        if seen.listed == 0 or not cursor:
            return None
        return {**seen.query, self.settings.cursor_param: cursor}

    def verdict(self, seen: PageSeen, size: int, number: int, distinct: int) -> Verdict:
        cursor, more = seen.signals.get("next_cursor"), seen.signals.get("has_more")
        broken = []
        if "has_more" in seen.signals and bool(cursor) != bool(more):
            broken.append(
                Broken(
                    "has_more",
                    f"page {number}: has_more and next_cursor disagree",
                    "has_more == (next_cursor != null)",
                    {"has_more": more, "next_cursor": _preview(cursor)},
                )
            )
        if seen.listed > size:
            broken.append(
                Broken(
                    "items",
                    f"page {number} lists {seen.listed} items for a page size of {size}",
                    size,
                    seen.listed,
                )
            )
        if not seen.listed and (more or cursor):
            broken.append(
                Broken(
                    "has_more",
                    f"page {number} is empty but says there is more",
                    False,
                    more if more is not None else _preview(cursor),
                )
            )
            return Verdict(broken, None)
        total = seen.signals.get("total")
        if isinstance(total, int) and distinct >= total and (more or cursor):
            broken.append(
                Broken(
                    "has_more",
                    f"page {number}: all {total} items are listed, "
                    "but the end-of-list flag says there is more",
                    False,
                    more,
                    across=True,
                )
            )
        if not cursor:
            return Verdict(broken, None, complete=True)
        return Verdict(broken, {**seen.query, self.settings.cursor_param: cursor})

    def openapi_annotations(self, envelope: Any) -> dict[str, dict[str, Any]]:
        path = signal_paths(envelope).get("next_cursor")
        if path is None:
            return {}
        pointer = "/" + "/".join(token.replace("~", "~0").replace("/", "~1") for token in path)
        return {
            self.settings.cursor_param: {EXTENSION: {"next": pointer, "page_size": list(self.size_names)}}
        }
