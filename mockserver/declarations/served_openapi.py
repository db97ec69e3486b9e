"""The OpenAPI documents served for a vendor: what the declarations add to the vendor's own document.

Two things no JSON Schema can say are written into the served copy as annotations.

**Empty query values.** Where the vendor's framework treats ``?status=`` as "not given" (query policy
``empty: ignore``), every query parameter is marked ``allowEmptyValue``, so a schema-driven client or
fuzzer (Schemathesis) knows the empty value is accepted, not refused.

**Paging parameters.** Each paging style adds what it knows about its parameters (its
``openapi_annotations``). A cursor is valid only when the server issued it, so each cursor parameter of
a served document gets an ``x-opaque-cursor`` extension naming where a page carries the next cursor
(a JSON pointer into the 200 body) and the page-size parameters, so that a fuzzer can fetch a real one
(:mod:`mockserver.testing.schemathesis_hooks` does) instead of sending a generated string that is
rightly refused.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from mockserver.documents.json_types import JsonObject, JsonValue, as_object, object_member
from mockserver.kinds.params import QueryPolicy

if TYPE_CHECKING:
    from mockserver.declarations.model import EndpointSpec


def annotate_cursors(document: dict[str, Any], endpoints: Iterable[EndpointSpec]) -> dict[str, Any]:
    """``document`` (the caller's own copy: it is changed in place) with its paging parameters carrying
    their style's extensions (``x-opaque-cursor``)."""
    annotated = document
    for endpoint in endpoints:
        extensions = endpoint.paging.openapi_annotations(endpoint.envelope)
        if not extensions:
            continue
        operation = annotated.get("paths", {}).get(endpoint.path, {}).get("get", {})
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "query" and parameter.get("name") in extensions:
                parameter.update(copy.deepcopy(extensions[parameter["name"]]))
    return annotated


def document_empty_values(document: dict[str, Any], policy: QueryPolicy) -> dict[str, Any]:
    """``document`` (the caller's own copy: it is changed in place) with its query parameters carrying
    ``allowEmptyValue: true`` when empty is ignored."""
    served = document
    if policy.empty != "ignore":
        return served
    for item in served.get("paths", {}).values():
        for operation in item.values() if isinstance(item, dict) else ():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else ():
                if isinstance(parameter, dict) and parameter.get("in") == "query":
                    parameter["allowEmptyValue"] = True
    return served


def response_schema(
    document: Mapping[str, JsonValue], path: str, status: int | str, method: str = "get"
) -> JsonObject | None:
    """The JSON Schema ``document`` gives ``method`` ``path``'s ``status`` response (a ``$ref`` to
    ``components/responses`` followed); None when that response is not documented."""
    operation = _object(_object(document.get("paths")).get(path)).get(method)
    response = _object(operation).get("responses")
    found = _object(response).get(str(status))
    if found is None:
        return None
    entry = as_object(found, f"{path} {status}")
    reference = entry.get("$ref")
    if isinstance(reference, str):
        entry = object_member(document, "components", "responses", reference.rsplit("/", 1)[1])
    return object_member(entry, "content", "application/json", "schema")


def _object(value: JsonValue) -> JsonObject:
    """``value`` when it is an object, else an empty one (an absent step of an optional path)."""
    return value if isinstance(value, dict) else {}
