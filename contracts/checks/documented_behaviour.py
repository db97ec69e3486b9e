"""Documented defaults, orders and paging signals, checked from the declarations (no vendor is named here).

- **Orders.** Every order option lists items in its declared order; a request without the order
  parameter lists them in the order of its documented default. Where an option decides the direction
  (an assumption), only a documented sort key that no longer orders the listing is drift; the direction
  itself is observed by :mod:`contracts.checks.observe`.
- **Defaults.** A request with no parameters is compared with every documented default: the page size
  (and the envelope's echo of it), the first page, the first offset, the default order and filters.
- **Walk.** Every page is walked, the last one included, as the endpoint's paging style says a client
  walks it, and every paging signal the envelope declares is checked on every page against what the
  style says it promises (end-of-list flags, next cursors, totals, ``from``/``to``/``last_page``, the
  page echo, the counts); the walk then checks the counts against the items seen. A difference between
  pages (a total that moves, an item seen twice) may be the data changing under a live walk: the walk is
  repeated once, and only a difference that persists in an unchanged listing is drift.
- **Page size.** One page at the largest size the endpoint allows (within the documented maximum, or
  what the target accepted where the maximum is our assumption) must list that many records, unless it
  is the end of the list: a shorter page while the paging signals (a total, a has-more flag, a next
  cursor) or the walk say there is more is a page size silently clamped. One request per sized endpoint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from contracts.checks.drift import preview
from contracts.checks.endpoint import EndpointCheck
from contracts.checks.findings import Finding
from contracts.checks.observe import direction
from contracts.checks.provenance import documented_default, site
from mockserver.data.dataset import field_value
from mockserver.kinds.paging import Broken

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
    handlers = {"size": _default_size, "page": _default_page}
    roles = {
        name: handlers.get(role, _default_explicit)
        for name, role in check.endpoint.paging.param_roles().items()
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
    total, more = check.signal(body, "total"), check.signal(body, "more")
    expected = min(default, total) if isinstance(total, int) else (default if more is True else None)
    if (expected is not None and listed != expected) or (expected is None and listed > default):
        check.add(
            BROKEN,
            check.where_is("items"),
            f"the default page lists {listed} items; the documented default {name} is {default}",
            expected if expected is not None else f"at most {default}",
            listed,
        )
    variable = check.signal_name("size")
    echoed = check.signal(body, "size")
    if variable is not None and echoed != default:
        check.add(
            BROKEN,
            check.where_is(variable),
            f"the default page reports {variable} {echoed!r}; the documented default {name} is {default}",
            default,
            echoed,
        )


def _default_page(check: EndpointCheck, body: Any, name: str, default: Any) -> None:
    variable, echoed = check.signal_name("page"), check.signal(body, "page")
    if variable is not None and echoed != default:
        check.add(
            BROKEN,
            check.where_is(variable),
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
        BROKEN if name in check.endpoint.paging.paging_params else "filter-semantics-changed",
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
    if check.endpoint.paging.size_param is None or body is None:
        return
    total = check.signal(body, "total")
    size = _walk_size(check, total)
    first = _walk(check, size)
    check.listed_in_walk = len(set(first.keys)) if first.complete else None
    check.findings += first.within
    if not first.across:
        return
    second = _walk(check, size)
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


def page_size(check: EndpointCheck) -> None:
    """The largest page the endpoint allows lists as many records as asked for, unless the list ends."""
    pager = check.endpoint.paging
    name = pager.size_param
    size = check.widest().get(name) if name is not None else None
    if not isinstance(size, int) or isinstance(size, bool) or size <= 1:
        return
    query = pager.first_query(size)
    response = check.request(query)
    body = check.json_body(response)
    if body is None or response.status_code != 200:
        return
    listed = len(check.items(body))
    if listed >= size:
        return
    total, walked = check.signal(body, "total"), check.listed_in_walk
    if isinstance(total, int) and not isinstance(total, bool) and total > listed:
        more, due = f"the total is {total}", min(size, total)
    elif walked is not None and walked > listed:
        more, due = f"a walk of every page listed {walked}", min(size, walked)
    elif _more_after(check, pager.next_query(check.seen(query, response, body), size), body):
        more, due = "the next page its paging signals point to lists more", size
    else:
        return  # the whole list fits on the page: nothing to compare
    check.add(
        BROKEN,
        check.where_is("items"),
        f"{name}={size} listed {listed} items while {more}: a page of {due} was asked for and {listed} "
        "served (the page size is clamped)",
        due,
        listed,
    )


def _more_after(check: EndpointCheck, following: dict[str, Any] | None, body: Any) -> bool:
    """Whether the page the signals point to lists records ``body`` does not (a signal alone may lie: a
    next cursor on the last page is another drift, not a clamp)."""
    if following is None:
        return False
    listed = set(map(str, check.keys(body)))
    return any(str(key) not in listed for key in check.keys(check.json_body(check.request(following))))


def _shown(totals: list[Any]) -> str:
    distinct: list[Any] = []
    for total in totals:
        if total not in distinct:
            distinct.append(total)
    return " -> ".join(map(repr, distinct[:5]))


def _walk_size(check: EndpointCheck, total: Any) -> int:
    name = str(check.endpoint.paging.size_param)
    spec = check.endpoint.params[name]
    if isinstance(total, int) and total > 0:
        size = math.ceil(total / MAX_PAGES)
    else:
        size = spec.default if isinstance(spec.default, int) else 1
    cap = check.widest().get(name) or spec.maximum or size
    return max(spec.minimum or 1, 1, min(size, cap))


def _add(walked: Walk, check: EndpointCheck, broken: Broken) -> None:
    where = "" if broken.variable == "" else check.where_is(broken.variable)
    finding = Finding(
        check.vendor.id, check.label, BROKEN, where, broken.message, broken.expected, broken.got, check.doc
    )
    (walked.across if broken.across else walked.within).append(finding)


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
            check.where_is(check.signal_name("total") or ""),
            f"the total moved between pages: {_shown(ints)}",
            ints[0],
            ints[-1],
        )
    if walked.complete and ints and len(set(walked.keys)) != ints[0]:
        _across(
            walked,
            check,
            check.where_is(check.signal_name("total") or ""),
            f"the total is {ints[0]} but the walk listed {len(set(walked.keys))} distinct items",
            len(set(walked.keys)),
            ints[0],
        )
    return walked


def _walk(check: EndpointCheck, size: int) -> Walk:
    """One walk at ``size``, page after page as the paging style asks, each page judged by the style."""
    pager = check.endpoint.paging
    query: dict[str, Any] | None = pager.first_query(size)
    walked = Walk()
    for number in range(1, MAX_PAGES + 3):
        if query is None:
            return _finish(check, walked)
        response = check.request(query)
        body = check.json_body(response)
        listed = check.keys(body)
        walked.keys += listed
        walked.totals.append(check.signal(body, "total"))
        walked.first_page = walked.first_page or listed
        verdict = pager.verdict(check.seen(query, response, body), size, number, len(set(walked.keys)))
        for broken in verdict.broken:
            _add(walked, check, broken)
        walked.complete = verdict.next is None and verdict.complete
        query = verdict.next
    if query is None:
        return _finish(check, walked)
    check.notes.append("pagination walk stopped at the page limit")
    return _finish(check, walked)
