"""Pagination styles: ``none``, ``offset``, ``page`` and ``cursor``, one class each, chosen by declaration.

A pager takes the selected records and the request's parameters, and returns the positions of the
records on this page plus the variables its envelope template needs (``total``, ``next_cursor``...).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from mockserver.data.dataset import Dataset, Selection
from mockserver.kinds.cursors import CursorCodec, CursorProblem
from mockserver.kinds.params import ParamSpec, Violation


@dataclass(frozen=True)
class PageRequest:
    """What a pager needs to know about one request."""

    params: Mapping[str, Any]
    dataset: Dataset
    selection: Selection
    scope: str


@dataclass(frozen=True)
class Page:
    """The positions of the records on this page and the envelope's variables."""

    positions: Sequence[int]
    variables: dict[str, Any] = field(default_factory=dict)


class Pager(ABC):
    """One pagination style. Subclasses register by ``style``."""

    style: ClassVar[str]
    registry: ClassVar[dict[str, type[Pager]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Pager.registry[cls.style] = cls

    def __init__(
        self, declaration: Mapping[str, Any], specs: Mapping[str, ParamSpec], codec: CursorCodec
    ) -> None:
        self.declaration = declaration
        self.specs = dict(specs)
        self.codec = codec

    @classmethod
    def from_declaration(
        cls, declaration: Mapping[str, Any], specs: Mapping[str, ParamSpec], codec: CursorCodec
    ) -> Pager:
        """The pager a declaration describes."""
        return cls.registry[declaration["style"]](declaration, specs, codec)

    @property
    def paging_params(self) -> frozenset[str]:
        """The query parameters that move through pages (they do not change what is listed)."""
        return frozenset()

    def request_specs(self) -> dict[str, ParamSpec]:
        """The parameter specs to validate requests with (a pager may relax a bound it enforces itself)."""
        return self.specs

    def _size_limit(self, name: str) -> int | None:
        return self.specs[name].maximum if self.declaration.get("over_max") == "clamp" else None

    def _relaxed(self, *names: str) -> dict[str, ParamSpec]:
        relaxed = dict(self.specs)
        if self.declaration.get("over_max") == "clamp":
            for name in names:
                relaxed[name] = relaxed[name].without_maximum()
        return relaxed

    @abstractmethod
    def page(self, request: PageRequest) -> Page | Violation:
        """This request's page, or the Violation its paging parameters commit."""


class NoPaging(Pager):
    """Every selected record in one response."""

    style = "none"

    def page(self, request: PageRequest) -> Page:
        members = request.selection.members
        return Page(members, {"total": len(members)})


class OffsetPaging(Pager):
    """``limit``/``offset``; ``zero_limit`` says what limit=0 means, ``count_scope`` what the total counts."""

    style = "offset"

    @property
    def paging_params(self) -> frozenset[str]:
        return frozenset({self.declaration["limit_param"], self.declaration["offset_param"]})

    def page(self, request: PageRequest) -> Page:
        limit = request.params[self.declaration["limit_param"]]
        offset = request.params[self.declaration["offset_param"]]
        members = request.selection.members
        if limit == 0 and self.declaration.get("zero_limit") == "all":
            window = members[offset:]
        else:
            window = members[offset : offset + limit]
        scope = self.declaration.get("count_scope", "filtered")
        total = len(members) if scope == "filtered" else len(request.dataset)
        return Page(window, {"total": total, "limit": limit, "offset": offset})


class PagePaging(Pager):
    """Laravel-style ``page``/``per_page`` with ``current_page``, ``last_page``, ``from`` and ``to``."""

    style = "page"

    @property
    def paging_params(self) -> frozenset[str]:
        return frozenset({self.declaration["page_param"], self.declaration["size_param"]})

    def request_specs(self) -> dict[str, ParamSpec]:
        return self._relaxed(self.declaration["size_param"])

    def page(self, request: PageRequest) -> Page:
        size_param = self.declaration["size_param"]
        per_page = request.params[size_param]
        limit = self._size_limit(size_param)
        if limit is not None:
            per_page = min(per_page, limit)
        page = request.params[self.declaration["page_param"]]
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


class CursorPaging(Pager):
    """Opaque ``cursor`` plus a page size (with aliases); keyset continuation after the last record."""

    style = "cursor"

    @property
    def size_names(self) -> tuple[str, ...]:
        """The page-size parameter and its aliases, in order of precedence."""
        return (self.declaration["size_param"], *self.declaration.get("size_aliases", ()))

    @property
    def paging_params(self) -> frozenset[str]:
        return frozenset({self.declaration["cursor_param"], *self.size_names})

    def request_specs(self) -> dict[str, ParamSpec]:
        specs = self._relaxed(*self.size_names)
        size_param = self.declaration["size_param"]
        # The default is applied here, after aliases: a parsed default would hide an alias.
        specs[size_param] = replace(specs[size_param], default=None)
        return specs

    def _size(self, params: Mapping[str, Any]) -> int:
        size_param = self.declaration["size_param"]
        size = next((params[name] for name in self.size_names if params.get(name) is not None), None)
        default = self.specs[size_param].default
        chosen: int = size if size is not None else default if isinstance(default, int) else 0
        limit = self._size_limit(size_param)
        return chosen if limit is None else min(chosen, limit)

    def _start(self, request: PageRequest) -> int | Violation:
        name = self.declaration["cursor_param"]
        token = request.params.get(name)
        if token is None:
            return 0
        last_id = self.codec.read(token, request.scope)
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
            next_cursor = self.codec.issue(last, request.scope)
        reported = len(window) if self.declaration.get("page_size_reports", "items") == "items" else size
        return Page(
            window,
            {"next_cursor": next_cursor, "has_more": has_more, "page_size": reported, "total": len(members)},
        )
