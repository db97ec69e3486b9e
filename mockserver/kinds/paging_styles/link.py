"""``style: link``: page number and size, with RFC 8288 ``Link`` headers to the next page (as GitHub).

Each page's response carries ``Link: <?page=2&per_page=10>; rel="next", <?page=1&per_page=10>;
rel="first", <?page=5&per_page=10>; rel="last"`` (and ``rel="prev"`` after the first page). The links
are query-only references (RFC 3986 5.2: they keep the request's scheme, host and path, so they are
right wherever the emulator is mounted); a client resolves them against the URL it asked. The end of
the list is a page without ``rel="next"``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit

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

LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")
REL = re.compile(r';\s*rel\s*=\s*"?([^";,]+)"?', re.IGNORECASE)


@dataclass(frozen=True)
class LinkSettings(SizedSettings):
    """A ``link`` block: the page-number and size parameters, and what a size above the maximum does."""

    page_param: str


def parse_links(header: str | None) -> dict[str, str]:
    """The targets of an RFC 8288 ``Link`` header by relation type (``{"next": "?page=2"}``)."""
    links: dict[str, str] = {}
    for target, parameters in LINK.findall(header or ""):
        for rel in REL.findall(parameters):
            for name in rel.split():
                links.setdefault(name.lower(), target)
    return links


def link_query(target: str) -> Query:
    """The query parameters of a link target."""
    return dict(parse_qsl(urlsplit(target).query, keep_blank_values=True))


class LinkPaging(SizedPager):
    """``page``/``per_page`` with the pages linked in a ``Link`` header: next, prev, first, last."""

    style = "link"
    rank = 50
    schema: ClassVar[Mapping[str, Any]] = {
        "title": "link",
        "description": 'Page number and size, the pages linked by RFC 8288 `Link` headers (`rel="next"`, '
        '`"prev"`, `"first"`, `"last"`), as GitHub does; the last page has no `rel="next"`.',
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
    }
    signal_roles: ClassVar[Mapping[SignalRole, str]] = {"total": "total", "size": "per_page", "page": "page"}
    settings_class = LinkSettings
    settings: LinkSettings

    @property
    def page_param(self) -> str:
        """The page-number parameter."""
        return self.settings.page_param

    @property
    def paging_params(self) -> frozenset[str]:
        return frozenset({self.page_param, self.size_param})

    def request_specs(self) -> dict[str, ParamSpec]:
        return self._relaxed(self.size_param)

    def page(self, request: PageRequest) -> Page:
        per_page = request.params[self.size_param]
        limit = self._size_limit(self.size_param)
        if limit is not None:
            per_page = min(per_page, limit)
        page = request.params[self.page_param]
        members = request.selection.members
        last_page = max(1, math.ceil(len(members) / per_page))
        start = (page - 1) * per_page
        window = members[start : start + per_page]
        kept = {name: value for name, value in request.params.items() if value is not None}
        targets = {"first": 1, "last": last_page}
        if page < last_page:
            targets["next"] = page + 1
        if 1 < page <= last_page + 1:
            targets["prev"] = min(page - 1, last_page)
        header = ", ".join(
            f'<?{urlencode({**kept, self.page_param: number, self.size_param: per_page})}>; rel="{rel}"'
            for rel, number in sorted(targets.items())
        )
        variables = {"page": page, "per_page": per_page, "total": len(members), "last_page": last_page}
        return Page(window, variables, (("link", header),))

    # ------------------------------------------------------------------ the client's side

    def param_roles(self) -> dict[str, str]:
        return {self.size_param: "size", self.page_param: "page"}

    def first_query(self, size: int | None) -> Query:
        first: Query = {self.page_param: 1}
        return first if size is None else {**first, self.size_param: size}

    def next_query(self, seen: PageSeen, size: int | None = None) -> Query | None:
        target = parse_links(seen.headers.get("link")).get("next")
        return None if target is None or seen.listed == 0 else link_query(target)

    def verdict(self, seen: PageSeen, size: int, number: int, distinct: int) -> Verdict:
        links = {rel: link_query(target) for rel, target in parse_links(seen.headers.get("link")).items()}
        page = int(seen.query.get(self.page_param, 1))
        broken = [*self._link_problems(links, page, size)]
        total = seen.signals.get("total")
        last = links.get("last", {}).get(self.page_param)
        if isinstance(total, int) and last is not None and str(last) != str(max(1, math.ceil(total / size))):
            broken.append(
                Broken(
                    "", f'page {page}: rel="last" is page {last} for a total of {total} at {size}', "", last
                )
            )
        if seen.listed > size:
            broken.append(
                Broken(
                    "items", f"page {page} lists {seen.listed} items for {size} per page", size, seen.listed
                )
            )
        following = self.next_query(seen)
        if "next" in links and seen.listed < size:
            broken.append(
                Broken(
                    "", f'page {page} lists {seen.listed} of {size} but links rel="next"', "no next", "next"
                )
            )
            return Verdict(broken, None)
        if following is None:
            return Verdict(broken, None, complete="next" not in links)
        return Verdict(broken, following)

    def _link_problems(self, links: Mapping[str, Query], page: int, size: int) -> list[Broken]:
        """Each link must point at its page, at the same size."""
        due = {"first": 1, "prev": page - 1 if page > 1 else None, "next": page + 1}
        broken = []
        for rel, query in links.items():
            expected = due.get(rel)
            if expected is not None and str(query.get(self.page_param)) != str(expected):
                message = f'page {page}: rel="{rel}" points at page {query.get(self.page_param)!r}'
                broken.append(Broken("", message, expected, query.get(self.page_param)))
            if rel in due and str(query.get(self.size_param)) != str(size):
                message = (
                    f'page {page}: rel="{rel}" changes {self.size_param} to {query.get(self.size_param)!r}'
                )
                broken.append(Broken("", message, size, query.get(self.size_param)))
        if page > 1 and "prev" not in links:
            broken.append(Broken("", f'page {page} has no rel="prev"', "prev", None))
        return broken
