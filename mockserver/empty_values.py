"""Served documents say what an empty query value means: where the vendor's framework treats ``?status=``
as "not given" (query policy ``empty: ignore``), every query parameter is marked ``allowEmptyValue``, so
a schema-driven client or fuzzer (Schemathesis) knows the empty value is accepted, not refused."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from mockserver.params import QueryPolicy


def document_empty_values(document: Mapping[str, Any], policy: QueryPolicy) -> dict[str, Any]:
    """A copy of ``document`` whose query parameters carry ``allowEmptyValue: true`` when empty is ignored."""
    served = copy.deepcopy(dict(document))
    if policy.empty != "ignore":
        return served
    for item in served.get("paths", {}).values():
        for operation in item.values() if isinstance(item, dict) else ():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else ():
                if isinstance(parameter, dict) and parameter.get("in") == "query":
                    parameter["allowEmptyValue"] = True
    return served
