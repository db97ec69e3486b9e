"""Schemathesis hooks for the emulator: positive cases get a cursor the server really issued.

An opaque cursor is valid only if the server issued it, for the same filters; no schema can describe
that, so a generated ``cursor=0`` is rightly refused and Schemathesis' ``positive_data_acceptance`` check
would fail on it. For a positive case that carries a cursor, this hook asks the emulator for the first
page of the same query and puts that page's real next cursor in its place (or drops the cursor when
there is no next page). Negative cases are left alone. What a cursor is and where the next one is found
are read from the ``x-opaque-cursor`` extension of the served OpenAPI document, so every
cursor-paginated vendor is covered without naming any.

This module depends only on the standard library, and registers nothing when imported.
``vendor-emulator schemathesis-config`` writes a copy of it, plus the registration below
(:data:`REGISTRATION`), next to the config, so that any Schemathesis installation can load it.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

EXTENSION = "x-opaque-cursor"


def cursor_paging(case: Any) -> tuple[str, list[str], list[str]] | None:
    """(cursor parameter, where a page has the next cursor, page-size parameters), from the document."""
    operation = case.operation
    declared = operation.schema.raw_schema.get("paths", {}).get(operation.path, {})
    for parameter in declared.get(operation.method.lower(), {}).get("parameters", []):
        extension = parameter.get(EXTENSION) if isinstance(parameter, dict) else None
        if isinstance(extension, dict) and isinstance(extension.get("next"), str):
            pointer = [
                token.replace("~1", "/").replace("~0", "~") for token in extension["next"].split("/")[1:]
            ]
            return str(parameter["name"]), pointer, [str(name) for name in extension.get("page_size", [])]
    return None


def issued_cursor(case: Any, query: dict[str, Any], location: list[str], sizes: list[str]) -> Any:
    """The next cursor the emulator issues for this query's first page of one item (None if none)."""
    schema = case.operation.schema
    first_page = {key: value for key, value in query.items() if key not in sizes}
    if sizes:
        first_page[sizes[0]] = 1
    url = f"{schema.get_base_url()}{case.operation.path}?{urllib.parse.urlencode(first_page, doseq=True)}"
    headers = {**schema.config.headers_for(operation=case.operation), **(case.headers or {})}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - the emulator's own URL
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            body = json.loads(response.read())
    except (OSError, ValueError):
        return None
    for key in location:
        body = body.get(key) if isinstance(body, dict) else None
    return body


def with_issued_cursor(case: Any) -> Any:
    """The case, with a generated cursor replaced by an issued one when the case is positive."""
    paging = cursor_paging(case)
    if paging is None or case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    name, location, sizes = paging
    query = dict(case.query or {})
    if name not in query:
        return case
    del query[name]
    cursor = issued_cursor(case, query, location, sizes)
    case.query = query if cursor is None else {**query, name: cursor}
    return case


def with_integral_numbers(case: Any) -> Any:
    """The case, with a whole number drawn as a float (``10.0``) written as an integer (``10``).

    JSON Schema counts 10.0 as an ``integer``, so a generator may draw it for an integer query parameter;
    in a query string it is written ``10.0``, which the vendors' frameworks (and the emulator) refuse as
    not an integer. No client sends it, so a positive case sends ``10`` instead.
    """
    if not case.query or case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    case.query = {
        name: int(value) if isinstance(value, float) and value.is_integer() else value
        for name, value in case.query.items()
    }
    return case


REGISTRATION = """

import schemathesis


@schemathesis.hook
def map_case(context, case):
    \"\"\"Registered when Schemathesis loads this file as its hooks (``hooks = ...`` in the config).\"\"\"
    return with_issued_cursor(with_integral_numbers(case))
"""
