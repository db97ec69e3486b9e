"""Documented defaults, orders and paging signals, checked from the declarations (no vendor is named here).

- **Orders.** Every order option lists items in its declared order; a request without the order
  parameter lists them in the order of its documented default. Where an option decides the direction
  (an assumption), only a documented sort key that no longer orders the listing is drift; the direction
  itself is observed by :mod:`contracts.checks.observe`.
- **Defaults.** A request with no parameters is compared with every documented default: the page size
  (and the envelope's echo of it), the first page, the first offset, the default order and filters.
- **Walk.** Every page is walked, the last one included, and every paging signal the envelope declares
  is checked on every page: end-of-list flags, next cursors, totals, ``from``/``to``/``last_page``,
  the page echo, and the counts against the items seen. A difference between pages (a total that moves,
  an item seen twice) may be the data changing under a live walk: the walk is repeated once, and only a
  difference that persists in an unchanged listing is drift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from contracts.checks.drift import preview
from contracts.checks.endpoint import EndpointCheck, at
from contracts.checks.findings import Finding
from contracts.checks.observe import direction
from contracts.checks.provenance import documented_default, site
from mockserver.data.dataset import field_value

MAX_PAGES = 12
BROKEN = "pagination-contract-broken"


# ---------------------------------------------------------------------------------------------- orders


def ordering(check: EndpointCheck, body: Any) -> None:
    """Each order option, and the default order of a request without the order parameter."""
    order = check.endpoint.order
    for choice in order.options:
        params = {**check.widest(), **({order.param: choice} if order.param else {})}
        items = check.items(check.json_body(check.request(params)))
        label = f"{order.param}={choice}" if order.param else "the default order"
        _judge(check, items, choice, label)
    default = check.endpoint.params[order.param].default if order.param else None
    if order.param and isinstance(default, str) and default in order.options and body is not None:
        _judge(check, check.items(body), default, f"the default order (no {order.param}: {default})")


def _judge(check: EndpointCheck, items: list[Any], choice: str, label: str) -> None:
    order = check.endpoint.order
    field_name, declared = order.options[choice][0]
    values = [field_value(item, field_name) for item in items]
    seen = direction(values)
    if seen is None or seen == declared:
        return
    decided_by = site(check.vendor, "order", choice, check.endpoint)
    if decided_by is not None and (seen != "unordered" or order.param is None):
        return  # the direction (or, for a fixed order, the whole order) is an assumption: observed apart
    what = f"not by {field_name} at all" if decided_by is not None else f"not by {field_name} {declared}"
    check.add(
        "sort-order-changed",
        check.where_is("items"),
        f"{label} is {what} (documented)",
        f"{field_name} {declared}",
        preview(values),
    )


# ---------------------------------------------------------------------------------------------- defaults


def defaults(check: EndpointCheck, body: Any) -> None:
    """The request with no parameters against every documented default."""
    if body is None:
        return
    paging = check.endpoint.paging
    roles = {
        paging.get("size_param"): _default_size,
        paging.get("limit_param"): _default_size,
        paging.get("page_param"): _default_page,
        paging.get("offset_param"): _default_explicit,
    }
    filtered = {declared.param for declared in check.endpoint.filters}
    for name, spec in check.endpoint.params.items():
        if spec.default is None or not documented_default(check.vendor, check.endpoint, name):
            continue
        if name == check.endpoint.order.param or name in filtered:
            continue  # checked by ordering() and the filter checks
        role = roles.get(name, _default_explicit)
        role(check, body, name, spec.default)


def _default_size(check: EndpointCheck, body: Any, name: str, default: Any) -> None:
    listed = len(check.items(body))
    total, more = at(body, check.paths.get("total")), at(body, check.paths.get("has_more"))
    expected = min(default, total) if isinstance(total, int) else (default if more is True else None)
    if (expected is not None and listed != expected) or (expected is None and listed > default):
        check.add(
            BROKEN,
            check.where_is("items"),
            f"the default page lists {listed} items; the documented default {name} is {default}",
            expected if expected is not None else f"at most {default}",
            listed,
        )
    for variable in ("per_page", "limit"):
        echoed = at(body, check.paths.get(variable))
        if variable in check.paths and echoed != default:
            check.add(
                BROKEN,
                check.where_is(variable),
                f"the default page reports {variable} {echoed!r}; the documented default {name} is {default}",
                default,
                echoed,
            )


def _default_page(check: EndpointCheck, body: Any, name: str, default: Any) -> None:
    echoed = at(body, check.paths.get("page"))
    if "page" in check.paths and echoed != default:
        check.add(
            BROKEN,
            check.where_is("page"),
            f"a request without {name} reports page {echoed!r}; the documented default is {default}",
            default,
            echoed,
        )


def _default_explicit(check: EndpointCheck, body: Any, name: str, default: Any) -> None:
    """Leaving a parameter out must list what giving its documented default lists."""
    explicit = check.keys(check.json_body(check.request({name: default})))
    if explicit == check.keys(body):
        return
    again = check.keys(check.json_body(check.request()))
    if again != check.keys(body):
        check.notes.append(f"the listing changed while {name}'s default was compared; not judged")
        return
    check.add(
        BROKEN if name in check.endpoint.paging.values() else "filter-semantics-changed",
        check.where_is("items"),
        f"a request without {name} lists other items than {name}={default!r}, its documented default",
        preview(explicit),
        preview(again),
    )


# ---------------------------------------------------------------------------------------------- walk


@dataclass
class Walk:
    """One walk through every page: keys seen, totals reported, and what did not hold."""

    keys: list[Any] = field(default_factory=list)
    totals: list[Any] = field(default_factory=list)
    first_page: list[Any] = field(default_factory=list)
    within: list[Finding] = field(default_factory=list)  # on one page: the data changing cannot explain it
    across: list[Finding] = field(default_factory=list)  # between pages: it might
    complete: bool = False


def walk(check: EndpointCheck, body: Any) -> None:
    """Walk every page twice if needed; report what persists in an unchanged listing."""
    style = check.endpoint.paging["style"]
    if style == "none" or body is None:
        return
    walker = {"cursor": _walk_cursor, "page": _walk_pages, "offset": _walk_offsets}[style]
    total = at(body, check.paths.get("total"))
    size = _walk_size(check, total)
    first = walker(check, size)
    check.findings += first.within
    if not first.across:
        return
    second = walker(check, size)
    if not second.across:
        check.notes.append(
            "the listing changed during a walk (totals "
            f"{_shown(first.totals)}); a second walk was consistent, so this is not drift"
        )
        return
    if (second.first_page, second.totals) != (first.first_page, first.totals):
        check.notes.append("the listing kept changing during two walks; the checks across pages were skipped")
        return
    check.findings += second.across


def _shown(totals: list[Any]) -> str:
    distinct: list[Any] = []
    for total in totals:
        if total not in distinct:
            distinct.append(total)
    return " -> ".join(map(repr, distinct[:5]))


def _walk_size(check: EndpointCheck, total: Any) -> int:
    paging = check.endpoint.paging
    name = str(paging.get("size_param") or paging.get("limit_param"))
    spec = check.endpoint.params[name]
    if isinstance(total, int) and total > 0:
        size = math.ceil(total / MAX_PAGES)
    else:
        size = spec.default if isinstance(spec.default, int) else 1
    cap = check.widest().get(name) or spec.maximum or size
    return max(spec.minimum or 1, 1, min(size, cap))


def _signal(  # noqa: PLR0917 - a finding's fields, in order
    walked: Walk, check: EndpointCheck, variable: str, message: str, expected: Any, got: Any
) -> None:
    walked.within.append(
        Finding(
            check.vendor.id, check.label, BROKEN, check.where_is(variable), message, expected, got, check.doc
        )
    )


def _across(  # noqa: PLR0917 - a finding's fields, in order
    walked: Walk, check: EndpointCheck, where: str, message: str, expected: Any, got: Any
) -> None:
    walked.across.append(
        Finding(check.vendor.id, check.label, BROKEN, where, message, expected, got, check.doc)
    )


def _finish(check: EndpointCheck, walked: Walk) -> Walk:
    repeated = sorted({key for key in walked.keys if walked.keys.count(key) > 1}, key=str)
    if repeated:
        _across(
            walked,
            check,
            "",
            f"{len(repeated)} item(s) listed on more than one page",
            "each item once",
            [str(key) for key in repeated[:5]],
        )
    ints = [total for total in walked.totals if isinstance(total, int)]
    if len(set(ints)) > 1:
        _across(
            walked,
            check,
            check.where_is("total"),
            f"the total moved between pages: {_shown(ints)}",
            ints[0],
            ints[-1],
        )
    if walked.complete and ints and len(set(walked.keys)) != ints[0]:
        _across(
            walked,
            check,
            check.where_is("total"),
            f"the total is {ints[0]} but the walk listed {len(set(walked.keys))} distinct items",
            len(set(walked.keys)),
            ints[0],
        )
    return walked


def _walk_cursor(check: EndpointCheck, size: int) -> Walk:
    paging = check.endpoint.paging
    params: dict[str, Any] = {paging["size_param"]: size}
    walked = Walk()
    for number in range(1, MAX_PAGES + 3):
        body = check.json_body(check.request(params))
        listed = check.keys(body)
        walked.keys += listed
        walked.totals.append(at(body, check.paths.get("total")))
        walked.first_page = walked.first_page or listed
        cursor, more = at(body, check.paths.get("next_cursor")), at(body, check.paths.get("has_more"))
        if "has_more" in check.paths and bool(cursor) != bool(more):
            _signal(
                walked,
                check,
                "has_more",
                f"page {number}: has_more and next_cursor disagree",
                "has_more == (next_cursor != null)",
                {"has_more": more, "next_cursor": preview(cursor)},
            )
        if len(listed) > size:
            _signal(
                walked,
                check,
                "items",
                f"page {number} lists {len(listed)} items for a page size of {size}",
                size,
                len(listed),
            )
        if not listed and (more or cursor):
            _signal(
                walked,
                check,
                "has_more",
                f"page {number} is empty but says there is more",
                False,
                more if more is not None else preview(cursor),
            )
            return _finish(check, walked)
        total = walked.totals[-1]
        if isinstance(total, int) and len(set(walked.keys)) >= total and (more or cursor):
            _across(
                walked,
                check,
                check.where_is("has_more"),
                f"page {number}: all {total} items are listed, but the end-of-list flag says there is more",
                False,
                more,
            )
        if not cursor:
            walked.complete = True
            return _finish(check, walked)
        params[paging["cursor_param"]] = cursor
    check.notes.append("pagination walk stopped at the page limit")
    return _finish(check, walked)


def _walk_pages(check: EndpointCheck, size: int) -> Walk:
    paging = check.endpoint.paging
    walked = Walk()
    for page in range(1, MAX_PAGES + 3):
        body = check.json_body(check.request({paging["page_param"]: page, paging["size_param"]: size}))
        listed = check.keys(body)
        walked.keys += listed
        total = at(body, check.paths.get("total"))
        walked.totals.append(total)
        walked.first_page = walked.first_page or listed
        last = max(1, math.ceil(total / size)) if isinstance(total, int) else None
        count = len(listed)
        expected_count = (
            None
            if last is None
            else size
            if page < last
            else max(0, total - (last - 1) * size)
            if page == last
            else 0
        )
        signals = {
            "page": page,
            "per_page": size,
            "last_page": last,
            "has_more": None if last is None else page < last,
            "from": (page - 1) * size + 1 if count else None,
            "to": (page - 1) * size + count if count else None,
        }
        for variable, expected in signals.items():
            got = at(body, check.paths.get(variable))
            if variable not in check.paths or (expected is None and variable not in ("from", "to")):
                continue
            if got != expected:
                _signal(
                    walked,
                    check,
                    variable,
                    f"page {page} at {size} per page (total {total!r}) reports {variable} {got!r}",
                    expected,
                    got,
                )
        if expected_count is not None and count != expected_count:
            _signal(
                walked,
                check,
                "total",
                f"page {page} lists {count} items; a total of {total} at {size} per page means "
                f"{expected_count}",
                expected_count,
                count,
            )
        more = at(body, check.paths.get("has_more"))
        if count < size and more is not True:
            walked.complete = True
            return _finish(check, walked)
        if count == 0:
            return _finish(check, walked)
    check.notes.append("pagination walk stopped at the page limit")
    return _finish(check, walked)


def _walk_offsets(check: EndpointCheck, size: int) -> Walk:
    paging = check.endpoint.paging
    walked = Walk()
    for number in range(MAX_PAGES + 2):
        offset = number * size
        body = check.json_body(check.request({paging["limit_param"]: size, paging["offset_param"]: offset}))
        listed = check.keys(body)
        walked.keys += listed
        total = at(body, check.paths.get("total"))
        walked.totals.append(total)
        walked.first_page = walked.first_page or listed
        if isinstance(total, int) and len(listed) != min(size, max(0, total - offset)):
            _signal(
                walked,
                check,
                "total",
                f"offset {offset} lists {len(listed)} items; a total of {total} at limit {size} means "
                f"{min(size, max(0, total - offset))}",
                min(size, max(0, total - offset)),
                len(listed),
            )
        if len(listed) < size:
            walked.complete = True
            return _finish(check, walked)
    check.notes.append("pagination walk stopped at the page limit")
    return _finish(check, walked)
