"""Semantic drifts: the same parameters, another meaning. A filter ignored, the default order changed, the
default page size changed, a filter's default value changed. Each is a change to the request the engine
answers, so every page, total and cursor stays consistent with itself. A monitor finding is replayed
from the parameter its message starts with (``status='free' listed an item that does not match``).
"""

from __future__ import annotations

from mockserver.drifts import query
from mockserver.drifts.base import Drift, Exchange, Param, Params, Reported, Target
from mockserver.drifts.view import EndpointView, VendorView, read


class FilterIgnored(Drift):
    id = "semantics.filter-ignored"
    summary = "a filter parameter is accepted but no longer narrows the list"
    kind = "filter-semantics-changed"
    params = (Param("filter", "string", "the query parameter the vendor now ignores"),)

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        found = []
        for endpoint in vendor.endpoints:
            names = tuple(item.param for item in endpoint.filters if item.narrows)
            if names:
                found.append(Target(endpoint.path, {"filter": names[0]}, {"filter": names}))
        return found

    @classmethod
    def from_finding(cls, finding: Reported, target: Target, endpoint: EndpointView | None) -> Params | None:
        if finding.kind != cls.kind or finding.expected is None:
            return None
        named = [name for name in target.choices.get("filter", ()) if finding.message.startswith(f"{name}=")]
        return {"filter": named[0]} if named else None

    def request(self, query_string: bytes, params: Params, endpoint: EndpointView | None) -> bytes:
        return query.without(query_string, str(params["filter"]))


class DefaultOrderChanged(Drift):
    id = "semantics.default-order-changed"
    summary = "without an order parameter, the list comes in another order"
    kind = "sort-order-changed"
    params = (
        Param("order", "string", "the order now applied by default (an option of the order parameter)"),
    )

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        found = []
        for endpoint in vendor.endpoints:
            if endpoint.items is None:
                continue
            others = tuple(option for option in endpoint.order_options if option != endpoint.order_default)
            if endpoint.order_param is not None and others:
                found.append(Target(endpoint.path, {"order": others[0]}, {"order": others}))
            elif endpoint.order_param is None:  # a fixed order whose direction is an option: assumed
                kind = "assumption-differs" if "order" in endpoint.assumed else None
                found.append(Target(endpoint.path, {"order": "reversed"}, {"order": ("reversed",)}, kind))
        return found

    @classmethod
    def from_finding(cls, finding: Reported, target: Target, endpoint: EndpointView | None) -> Params | None:
        mine = finding.kind == cls.kind and "the default order" in finding.message
        return dict(target.defaults) if mine else None

    def request(self, query_string: bytes, params: Params, endpoint: EndpointView | None) -> bytes:
        name = endpoint.order_param if endpoint is not None else None
        if name is None or query.value(query_string, name) is not None:
            return query_string
        return query.with_value(query_string, name, str(params["order"]))

    def respond(self, answer: Exchange, params: Params, endpoint: EndpointView | None) -> None:
        if endpoint is None or endpoint.order_param is not None or answer.status != 200:
            return  # a fixed order: each page's records in the opposite order
        body = answer.json
        listed = read(body, endpoint.items) if endpoint.items else body
        if isinstance(listed, list):
            listed.reverse()
            answer.json = body


class DefaultPageSizeChanged(Drift):
    id = "semantics.default-page-size-changed"
    summary = "without a page size, pages hold SIZE records instead of the documented default"
    kind = "pagination-contract-broken"
    params = (Param("size", "integer", "the new default page size", minimum=1),)

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        return [
            Target(
                endpoint.path,
                {"size": max(1, endpoint.size_default // 2)},
                kind="assumption-differs" if "size-default" in endpoint.assumed else None,
            )
            for endpoint in vendor.endpoints
            if endpoint.size_param is not None and endpoint.size_default
        ]

    @classmethod
    def from_finding(cls, finding: Reported, target: Target, endpoint: EndpointView | None) -> Params | None:
        listed = finding.observed  # "the default page lists 2 items; the documented default limit is 5"
        mine = finding.kind == cls.kind and finding.message.startswith("the default page lists")
        return {"size": listed} if mine and isinstance(listed, int) and listed >= 1 else None

    def request(self, query_string: bytes, params: Params, endpoint: EndpointView | None) -> bytes:
        if endpoint is None or endpoint.size_param is None:
            return query_string
        names = (endpoint.size_param, *endpoint.size_aliases)
        if any(query.value(query_string, name) is not None for name in names):
            return query_string
        return query.with_value(query_string, endpoint.size_param, str(params["size"]))


class DefaultFilterChanged(Drift):
    id = "semantics.default-filter-changed"
    summary = "without a filter parameter, the list is filtered by another default value"
    kind = "filter-semantics-changed"
    params = (
        Param("filter", "string", "the filter parameter whose default changed"),
        Param("value", "string", "the value now applied by default"),
    )

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        found = []
        for endpoint in vendor.endpoints:
            for item in endpoint.filters:
                others = tuple(str(value) for value in item.enum if value != item.default)
                if item.narrows and item.default is not None and others:
                    found.append(Target(endpoint.path, {"filter": item.param, "value": others[-1]}))
                    break
        return found

    @classmethod
    def from_finding(cls, finding: Reported, target: Target, endpoint: EndpointView | None) -> Params | None:
        # "status=None listed an item that does not match": the request left the filter out
        unasked = finding.message.startswith(f"{target.defaults.get('filter')}=None ")
        return dict(target.defaults) if finding.kind == cls.kind and unasked else None

    def request(self, query_string: bytes, params: Params, endpoint: EndpointView | None) -> bytes:
        name = str(params["filter"])
        if query.value(query_string, name) is not None:
            return query_string
        return query.with_value(query_string, name, str(params["value"]))
