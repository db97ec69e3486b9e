"""Paging drifts, derived from the paging style's signals: a total that is really the page length, an end
flag that never (or always) turns false, a next cursor on the last page, the cursor ignored, the page size
silently clamped. A drift is listed only where the endpoint's envelope carries the signal it bends.
A monitor's ``pagination-contract-broken`` finding is replayed by the drift whose signal (and detail) it
names: the total, the end flag (and which way it lies), an item on two pages, a page smaller than asked.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from mockserver.drifts import query
from mockserver.drifts.base import Drift, Exchange, Param, Params, Reported, Target
from mockserver.drifts.view import EndpointView, VendorView, read, write

BROKEN = "pagination-contract-broken"
PAST_THE_END = "drift-past-the-end"


def _listed(answer: Exchange, endpoint: EndpointView) -> list[Any] | None:
    if answer.status != 200 or endpoint.items is None:
        return None
    found = read(answer.json, endpoint.items) if endpoint.items else answer.json
    return found if isinstance(found, list) else None


TOTAL_OF = re.compile(r"a total of (\d+) ")


def _flags(observed: Any) -> tuple[list[bool], list[Any]]:
    """The booleans and the other values of an observed ``{"has_more": ..., "next_cursor": ...}``."""
    values = list(observed.values()) if isinstance(observed, dict) else [observed]
    return [v for v in values if isinstance(v, bool)], [v for v in values if not isinstance(v, bool)]


def _with_signal(vendor: VendorView, role: str) -> list[Target]:
    return [
        Target(endpoint.path) for endpoint in vendor.endpoints if role in endpoint.signals and endpoint.items
    ]


class TotalIsPageLength(Drift):
    id = "paging.total-is-page-length"
    summary = "the total counts the records on this page, not the whole list"
    kind = BROKEN

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        return _with_signal(vendor, "total")

    @classmethod
    def from_finding(cls, finding: Reported, target: Target, endpoint: EndpointView | None) -> Params | None:
        if finding.kind != BROKEN or not finding.at_signal(endpoint, "total"):
            return None
        said = TOTAL_OF.search(finding.message)  # "offset 1 lists 1 items; a total of 1 at limit 1 ..."
        if said is not None and int(said.group(1)) == finding.observed:
            return {}
        walked = "the walk listed" in finding.message  # "the total is 2 but the walk listed 62 ..."
        below = isinstance(finding.observed, int) and isinstance(finding.expected, int)
        return {} if walked and below and finding.observed < finding.expected else None

    def respond(self, answer: Exchange, params: Params, endpoint: EndpointView | None) -> None:
        listed = _listed(answer, endpoint) if endpoint else None
        if endpoint is not None and listed is not None:
            body = answer.json
            write(body, endpoint.signals["total"], len(listed))
            answer.json = body


class _MoreFlagForced(Drift):
    """The has-more flag set to ``forced`` on every page (no ``id``: not a drift of its own)."""

    kind = BROKEN
    forced: ClassVar[bool]

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        return _with_signal(vendor, "more")

    def respond(self, answer: Exchange, params: Params, endpoint: EndpointView | None) -> None:
        if endpoint is not None and _listed(answer, endpoint) is not None:
            body = answer.json
            write(body, endpoint.signals["more"], self.forced)
            answer.json = body


class EndFlagNeverFalse(_MoreFlagForced):
    id = "paging.end-flag-never-false"
    summary = "the has-more flag stays true on the last page (a naive client pages for ever)"
    forced = True
    loops = True

    @classmethod
    def from_finding(cls, finding: Reported, target: Target, endpoint: EndpointView | None) -> Params | None:
        if finding.kind != BROKEN or not finding.at_signal(endpoint, "more"):
            return None
        flags, others = _flags(finding.observed)  # the flag says more, with no next cursor (or at the end)
        return {} if True in flags and (finding.expected is False or None in others) else None


class EndFlagAlwaysFalse(_MoreFlagForced):
    id = "paging.end-flag-always-false"
    summary = "the has-more flag is false on every page (a client trusting it stops after the first)"
    forced = False

    @classmethod
    def from_finding(cls, finding: Reported, target: Target, endpoint: EndpointView | None) -> Params | None:
        if finding.kind != BROKEN or not finding.at_signal(endpoint, "more"):
            return None
        flags, others = _flags(finding.observed)  # the flag says the end, while a next cursor is given
        ended = False in flags and (finding.expected is True or any(v is not None for v in others))
        return {} if ended else None


class NextOnLastPage(Drift):
    id = "paging.next-on-last-page"
    summary = "the last page still carries a next cursor; following it lists nothing"
    kind = BROKEN

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        return [
            Target(endpoint.path)
            for endpoint in vendor.endpoints
            if "next" in endpoint.signals and endpoint.cursor_param and endpoint.items is not None
        ]

    def request(self, query_string: bytes, params: Params, endpoint: EndpointView | None) -> bytes:
        if endpoint is None or endpoint.cursor_param is None:
            return query_string
        if query.value(query_string, endpoint.cursor_param) == PAST_THE_END:
            return query.without(query_string, endpoint.cursor_param)  # answered, then emptied below
        return query_string

    def respond(self, answer: Exchange, params: Params, endpoint: EndpointView | None) -> None:
        listed = _listed(answer, endpoint) if endpoint else None
        if endpoint is None or listed is None or endpoint.cursor_param is None:
            return
        body = answer.json
        if query.value(answer.request_query, endpoint.cursor_param) == PAST_THE_END:
            listed.clear()
            write(body, endpoint.signals["next"], None)
            if "more" in endpoint.signals:
                write(body, endpoint.signals["more"], False)
        elif read(body, endpoint.signals["next"]) is None:
            write(body, endpoint.signals["next"], PAST_THE_END)
        answer.json = body


class CursorIgnored(Drift):
    id = "paging.cursor-ignored"
    summary = "the cursor (offset, page) is ignored: every page is the first one again"
    kind = BROKEN
    loops = True

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        return [Target(endpoint.path) for endpoint in vendor.endpoints if endpoint.movers]

    @classmethod
    def from_finding(cls, finding: Reported, target: Target, endpoint: EndpointView | None) -> Params | None:
        return {} if finding.kind == BROKEN and finding.expected == "each item once" else None

    def request(self, query_string: bytes, params: Params, endpoint: EndpointView | None) -> bytes:
        return query.without(query_string, *endpoint.movers) if endpoint is not None else query_string


class SizeClamped(Drift):
    id = "paging.size-clamped"
    summary = "a page size above MAX is silently served as MAX (no error)"
    kind = BROKEN
    params = (Param("max", "integer", "the largest page size the vendor now serves", minimum=1),)

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        found = []
        for endpoint in vendor.endpoints:
            if endpoint.size_param is None:
                continue
            documented = endpoint.size_max if endpoint.size_max and endpoint.size_max <= 1000 else None
            largest = documented or 2 * (endpoint.size_default or 1)
            kind = "assumption-differs" if "over_max" in endpoint.assumed else None  # clamp vs reject
            # at most the default size: a clamp is seen only on a list longer than it, and most lists are
            # longer than the default page but not always than half the maximum
            clamp = min(largest // 2, endpoint.size_default or largest // 2)
            found.append(Target(endpoint.path, {"max": max(1, clamp)}, kind=kind))
        return found

    @classmethod
    def from_finding(cls, finding: Reported, target: Target, endpoint: EndpointView | None) -> Params | None:
        served = finding.observed  # "limit=100 listed 5 items while ... (the page size is clamped)"
        clamped = finding.kind == BROKEN and "page size is clamped" in finding.message
        return {"max": served} if clamped and isinstance(served, int) and served >= 1 else None

    def request(self, query_string: bytes, params: Params, endpoint: EndpointView | None) -> bytes:
        if endpoint is None or endpoint.size_param is None:
            return query_string
        for name in (endpoint.size_param, *endpoint.size_aliases):
            asked = query.value(query_string, name)
            if asked is not None and asked.isdigit() and int(asked) > int(params["max"]):
                query_string = query.with_value(query_string, name, str(params["max"]))
        return query_string
