"""The OpenAPI documents served for a vendor: what the declarations add to the vendor's own document.

Two things no JSON Schema can say are written into the served copy as annotations.

**Empty query values.** Where the vendor's framework treats ``?status=`` as "not given" (query policy
``empty: ignore``), every query parameter is marked ``allowEmptyValue``, so a schema-driven client or
fuzzer (Schemathesis) knows the empty value is accepted, not refused.

**Opaque cursors.** A cursor is valid only when the server issued it. Each cursor parameter of a served
document gets an ``x-opaque-cursor`` extension naming where a page carries the next cursor
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

NEXT_CURSOR = "${next_cursor}"
EXTENSION = "x-opaque-cursor"


def _pointer_to(tree: Any, wanted: str, path: tuple[str, ...] = ()) -> str | None:
    if tree == wanted:
        return "/" + "/".join(token.replace("~", "~0").replace("/", "~1") for token in path)
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            found = _pointer_to(value, wanted, (*path, str(key)))
            if found is not None:
                return found
    return None


def annotate_cursors(document: Mapping[str, Any], endpoints: Iterable[EndpointSpec]) -> dict[str, Any]:
    """A copy of ``document`` whose cursor parameters carry the ``x-opaque-cursor`` extension."""
    annotated = copy.deepcopy(dict(document))
    for endpoint in endpoints:
        paging = endpoint.paging
        pointer = _pointer_to(endpoint.envelope, NEXT_CURSOR)
        if paging.get("style") != "cursor" or pointer is None:
            continue
        sizes = [name for name in [paging.get("size_param"), *paging.get("size_aliases", [])] if name]
        operation = annotated.get("paths", {}).get(endpoint.path, {}).get("get", {})
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "query" and parameter.get("name") == paging["cursor_param"]:
                parameter[EXTENSION] = {"next": pointer, "page_size": sizes}
    return annotated


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


def response_schema(document: Mapping[str, JsonValue], path: str, status: int | str) -> JsonObject | None:
    """The JSON Schema ``document`` gives GET ``path``'s ``status`` response (a ``$ref`` to
    ``components/responses`` followed); None when that response is not documented."""
    operation = _object(_object(document.get("paths")).get(path)).get("get")
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
