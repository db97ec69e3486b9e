"""Observe what a target does where the docs are silent: the value of each option, by probing.

Each option's sites (see :mod:`contracts.checks.provenance`) say what it decides, and so how to observe it:
an order's direction from the order of a listing; a default page size from a full default page (or,
when the whole list fits in the first page and that is more than ours, a lower bound: its length); the
over-maximum, empty-value and repeated-value handling from how one such request is answered; what a
page-size field reports on a short page; what ``limit=0`` returns; what a total counts under a filter;
an envelope value by reading it. ``contracts check`` turns a difference into an ``assumption-differs``
finding; ``contracts calibrate`` writes the observed values into an options file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from contracts.checks.drift import json_type
from contracts.checks.endpoint import EndpointCheck
from contracts.checks.provenance import Site, option_choices, option_value, sites
from mockserver.data.dataset import field_value
from mockserver.documents.reading import path_get

CLIENT_ERROR = range(400, 500)


@dataclass(frozen=True)
class Observation:
    """What the target was seen to do for one option, where and when, and how it was seen."""

    vendor: str
    option: str
    ours: Any
    observed: Any
    endpoint: str
    url: str
    at: str
    how: str
    site: str
    valid: bool = True

    @property
    def differs(self) -> bool:
        """Whether the target does otherwise than the emulator assumes."""
        return bool(self.observed != self.ours)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "vendor": self.vendor,
            "option": self.option,
            "ours": self.ours,
            "observed": self.observed,
            "endpoint": self.endpoint,
            "url": self.url,
            "at": self.at,
            "how": self.how,
            "valid": self.valid,
        }


def direction(values: list[Any]) -> str | None:
    """``asc``, ``desc``, ``unordered``, or None when the values cannot tell (fewer than two distinct)."""
    comparable = [value for value in values if value is not None]
    if len({json_type(value) for value in comparable}) > 1 or len(set(map(repr, comparable))) < 2:
        return None
    if comparable == sorted(comparable):
        return "asc"
    if comparable == sorted(comparable, reverse=True):
        return "desc"
    return "unordered"


Observer = Callable[[EndpointCheck, Site, Any], Iterator[tuple[Any, str, Any]]]
"""Yields (observed value, how it was seen, the params of the deciding request); nothing if not observable."""


def _size_name(check: EndpointCheck) -> str | None:
    return check.endpoint.paging.size_param


def _order(check: EndpointCheck, found: Site, ours: Any) -> Iterator[tuple[Any, str, Any]]:
    order = check.endpoint.order
    params = {**check.widest(), **({order.param: found.where} if order.param else {})}
    field_name = order.options[found.where][0][0]
    status, body = check.probe(params)
    if status == 200:
        seen = direction([field_value(item, field_name) for item in check.items(body)])
        if seen is not None:
            yield seen, f"the listing is {seen} by {field_name}", params


def _default_size(check: EndpointCheck, found: Site, ours: Any) -> Iterator[tuple[Any, str, Any]]:
    if found.where != _size_name(check):
        return
    status, body = check.probe()
    if status != 200:
        return
    listed = len(check.items(body))
    total, more = check.signal(body, "total"), check.signal(body, "more")
    if more is True or (isinstance(total, int) and listed < total):
        yield listed, f"a request without {found.where} listed a full page of {listed}", {}
    elif isinstance(ours, int) and listed > ours:
        # Not a full page: the list ended (or the paging kind cannot say), so the page length is not the
        # default; but one page held more than ours, so the default is at least that (a lower bound).
        ended = "the list ended there" if more is False or total == listed else "no sign of more"
        yield (
            listed,
            f"a request without {found.where} listed {listed} items, {ended}: the default is at least"
            f" {listed} (a lower bound; a longer list would show it)",
            {},
        )


def _maximum(check: EndpointCheck, found: Site, ours: Any) -> Iterator[tuple[Any, str, Any]]:
    if found.where != _size_name(check) or not isinstance(ours, int):
        return
    accepted = check.widest().get(found.where)
    if check.refused_sizes and isinstance(accepted, int):
        refused = min(check.refused_sizes)
        yield (
            accepted,
            f"{found.where}={refused} was refused, {accepted} accepted (a lower bound)",
            {found.where: accepted},
        )
        return
    params = {found.where: ours + 1}
    status, body = check.probe(params)
    if status in CLIENT_ERROR:
        yield ours, f"{found.where}={ours + 1} was refused with {status}", params
    elif status == 200 and len(check.items(body)) == ours:
        yield ours, f"{found.where}={ours + 1} listed {ours} items (clamped)", params


def _over_max(check: EndpointCheck, found: Site, ours: Any) -> Iterator[tuple[Any, str, Any]]:
    name = _size_name(check)
    maximum = check.endpoint.params[name].maximum if name else None
    if name is None or maximum is None:
        return
    params = {name: maximum + 1}
    status, _ = check.probe(params)
    if status in CLIENT_ERROR:
        yield "reject", f"{name}={maximum + 1} was refused with {status}", params
    elif status == 200:
        yield "clamp", f"{name}={maximum + 1} was answered 200", params


def _size_reports(check: EndpointCheck, found: Site, ours: Any) -> Iterator[tuple[Any, str, Any]]:
    params = check.widest()
    status, body = check.probe(params)
    reported, listed = check.signal(body, "size_report"), len(check.items(body))
    size = next(iter(params.values()), None)
    if status != 200 or check.signal(body, "more") is True or listed == size:
        return
    if reported == listed:
        yield "items", f"a short page of {listed} items reports page_size {reported}", params
    elif reported == size:
        yield "requested", f"a short page of {listed} items reports the requested {reported}", params


def _zero_limit(check: EndpointCheck, found: Site, ours: Any) -> Iterator[tuple[Any, str, Any]]:
    name = _size_name(check)
    if name is None:
        return
    params = {name: 0}
    status, body = check.probe(params)
    if status == 200:
        listed = len(check.items(body))
        yield ("empty" if listed == 0 else "all"), f"{name}=0 listed {listed} items", params


def _first_enum_filter(check: EndpointCheck) -> tuple[str, str, tuple[str, ...]] | None:
    for declared in check.endpoint.filters:
        choices = declared.enum_choices(check.endpoint.params[declared.param])
        if choices is not None:
            return declared.param, choices[0], tuple(choices[1])
    return None


def _count_scope(check: EndpointCheck, found: Site, ours: Any) -> Iterator[tuple[Any, str, Any]]:
    chosen = _first_enum_filter(check)
    if chosen is None:
        return
    param, _, values = chosen
    _, everything = check.probe(check.widest())
    total = check.signal(everything, "total")
    for value in values:
        params = {**check.widest(), param: value}
        status, body = check.probe(params)
        filtered, listed = check.signal(body, "total"), len(check.items(body))
        if status != 200 or not isinstance(total, int) or listed >= total:
            continue
        if filtered == total:
            yield (
                "organization",
                f"{param}={value} listed {listed} of {total}; the total stayed {total}",
                params,
            )
        elif filtered == listed:
            yield (
                "filtered",
                f"{param}={value} listed {listed} of {total}; the total became {filtered}",
                params,
            )
        return


def _empty(check: EndpointCheck, found: Site, ours: Any) -> Iterator[tuple[Any, str, Any]]:
    chosen = _first_enum_filter(check)
    name = chosen[0] if chosen else _size_name(check)
    if name is None:
        return
    params = {name: ""}
    status, _ = check.probe(params)
    if status in CLIENT_ERROR:
        yield "reject", f"{name}= (empty) was refused with {status}", params
    elif status == 200:
        yield "ignore", f"{name}= (empty) was answered 200", params


def _repeated(check: EndpointCheck, found: Site, ours: Any) -> Iterator[tuple[Any, str, Any]]:
    chosen = _first_enum_filter(check)
    if chosen is None or len(chosen[2]) < 2:
        return
    param, field_name, values = chosen
    params = [(param, values[0]), (param, values[1]), *check.widest().items()]
    status, body = check.probe(params)
    if status in CLIENT_ERROR:
        yield "reject", f"{param} given twice was refused with {status}", params
        return
    seen = {field_value(item, field_name) for item in check.items(body)}
    if status == 200 and seen == {values[0]}:
        yield "first", f"{param}={values[0]}&{param}={values[1]} listed only {values[0]}", params
    elif status == 200 and seen == {values[1]}:
        yield "last", f"{param}={values[0]}&{param}={values[1]} listed only {values[1]}", params


UNKNOWN_PARAMETER = "vendor_emulator_probe"


def _unknown(check: EndpointCheck, found: Site, ours: Any) -> Iterator[tuple[Any, str, Any]]:
    params = {UNKNOWN_PARAMETER: "1"}
    status, _ = check.probe(params)
    if status in CLIENT_ERROR:
        yield "reject", f"an undeclared parameter ({UNKNOWN_PARAMETER}=1) was refused with {status}", params
    elif status == 200:
        yield "ignore", f"an undeclared parameter ({UNKNOWN_PARAMETER}=1) was answered 200", params


def _filter_case(check: EndpointCheck, found: Site, ours: Any) -> Iterator[tuple[Any, str, Any]]:
    declared = next(f for f in check.endpoint.filters if f.param == found.where)
    fields = declared.record_fields
    _, body = check.probe(check.widest())
    sample = next(
        (
            value
            for item in check.items(body)
            for name in fields
            if isinstance(value := field_value(item, name), str) and value.swapcase() != value
        ),
        None,
    )
    if sample is None:
        return
    params = {**check.widest(), found.where: sample.swapcase()}
    status, answer = check.probe(params)
    if status == 200:
        listed = len(check.items(answer))
        yield (listed > 0), f"{found.where}={sample.swapcase()} (case changed) listed {listed} items", params


def _envelope(check: EndpointCheck, found: Site, ours: Any) -> Iterator[tuple[Any, str, Any]]:
    status, body = check.probe()
    value = path_get(body, tuple(found.where.split(".")))
    if status == 200 and value is not None:
        yield value, f"the body's {found.where} is {value!r}", {}


PAGING_OBSERVERS: dict[str, Observer] = {
    "over_max": _over_max,
    "page_size_reports": _size_reports,
    "zero_limit": _zero_limit,
    "count_scope": _count_scope,
}
QUERY_OBSERVERS: dict[str, Observer] = {"empty": _empty, "repeated": _repeated, "unknown": _unknown}


def observer(found: Site) -> Observer | None:
    """How to observe a site (None: not observable from outside)."""
    by_kind: dict[str, Observer] = {
        "order": _order,
        "param-default": _default_size,
        "param-maximum": _maximum,
        "envelope": _envelope,
        "filter-case": _filter_case,
    }
    if found.kind == "paging":
        return PAGING_OBSERVERS.get(found.where)
    if found.kind == "query":
        return QUERY_OBSERVERS.get(found.where)
    return by_kind.get(found.kind)


def observe(check: EndpointCheck, vendor_wide: set[str]) -> list[Observation]:
    """Observe every option whose site is on this endpoint (and vendor-wide ones not yet seen)."""
    out: list[Observation] = []
    for found in sites(check.vendor):
        if found.endpoint not in (check.endpoint.path, None):
            continue
        if found.endpoint is None and found.option in vendor_wide:
            continue
        how = observer(found)
        if how is None:
            continue
        ours = option_value(check.vendor, found.option)
        for observed, text, params in how(check, found, ours):
            choices = option_choices(check.vendor, found.option)
            valid = observed in choices if choices is not None else isinstance(observed, type(ours))
            query = f"?{urlencode(params)}" if params else ""
            url = check.client.redactor.text(f"{check.client.base_url}{check.endpoint.path}{query}")
            out.append(
                Observation(
                    check.vendor.id,
                    found.option,
                    ours,
                    observed,
                    check.label,
                    url,
                    datetime.now(UTC).isoformat(timespec="seconds"),
                    text,
                    f"{found.kind}:{found.where}",
                    valid,
                )
            )
            if found.endpoint is None:
                vendor_wide.add(found.option)
    return out


def report_differences(check: EndpointCheck, observations: list[Observation]) -> None:
    """Every observed value that differs from ours becomes an ``assumption-differs`` finding."""
    for seen in observations:
        if seen.differs:
            path = (
                "/" + seen.site.split(":", 1)[1].replace(".", "/") if seen.site.startswith("envelope") else ""
            )
            check.assumption(seen.option, seen.ours, seen.observed, seen.how, path, fixable=seen.valid)
