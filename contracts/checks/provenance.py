"""Where each compared behaviour comes from: a documented fact (with its doc URL) or an assumption.

Nothing here names a vendor. The sites of the options are read from the raw declaration (before the
options are substituted): an option is used where a ``${opt:NAME}`` sits (an order's direction, a paging
setting, the query policy, an envelope value) or where its ``targets`` point (a parameter's default or
maximum). Everything else a check compares is documented, and its doc URL is the operation's
``externalDocs`` (or the vendor's docs).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from mockserver.declarations.model import EndpointSpec, VendorSpec
from mockserver.documents.reading import read_json
from mockserver.engine.options_file import option_line

OPTION = re.compile(r"^\$\{opt:([A-Za-z0-9_]+)\}$")
PARAMETER_TARGET = re.compile(
    r"^/paths/(?P<path>[^/]+)/get/parameters/(?P<index>\d+)/schema/(?P<keyword>\w+)$"
)


@dataclass(frozen=True)
class Site:
    """One place an option decides a behaviour.

    ``kind``: ``order`` (``where`` = the order option, "" for a fixed order), ``paging`` (``where`` = the
    paging key), ``query`` (``empty``, ``repeated`` or ``unknown``), ``filter-case`` (``where`` = the
    filter's parameter), ``envelope`` (``where`` = the JSON path, dotted),
    ``param-default`` / ``param-maximum`` (``where`` = the parameter). ``endpoint`` is None for
    vendor-wide sites.
    """

    option: str
    kind: str
    where: str
    endpoint: str | None


def _option(node: Any) -> str | None:
    match = OPTION.match(node) if isinstance(node, str) else None
    return match.group(1) if match else None


def _leaves(node: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*prefix, str(key)))
    elif (name := _option(node)) is not None:
        yield prefix, name


@lru_cache(maxsize=64)
def _raw(source: Path) -> dict[str, Any]:
    document: dict[str, Any] = read_json(source)
    return document


def _unescape(segment: str) -> str:
    return segment.replace("~1", "/").replace("~0", "~")


def sites(spec: VendorSpec) -> tuple[Site, ...]:
    """Every site of every option of ``spec``, from its raw declaration."""
    raw = _raw(spec.source)
    query = raw.get("x-emulator", {}).get("query", {})
    found = [
        Site(n, "query", k, None) for k in ("empty", "repeated", "unknown") if (n := _option(query.get(k)))
    ]
    for path, item in raw.get("paths", {}).items():
        declaration = item.get("get", {}).get("x-emulator", {})
        order = declaration.get("order", {})
        entries = {"": order["fixed"]} if "fixed" in order else order.get("options", {})
        for choice, keys in entries.items():
            if keys and (name := _option(keys[0][1])) is not None:
                found.append(Site(name, "order", choice, path))
        found += [
            Site(name, "filter-case", declared["param"], path)
            for declared in declaration.get("filters", [])
            if (name := _option(declared.get("case_insensitive"))) is not None
        ]
        for key, value in declaration.get("paging", {}).items():
            if (name := _option(value)) is not None:
                found.append(Site(name, "paging", key, path))
        found += [Site(n, "envelope", ".".join(w), path) for w, n in _leaves(declaration.get("envelope"))]
    for name, option in raw.get("x-emulator", {}).get("options", {}).items():
        for target in option.get("targets", ()):
            match = PARAMETER_TARGET.match(target)
            if match is None:
                continue
            path = _unescape(match["path"])
            parameters = raw["paths"][path]["get"].get("parameters", [])
            parameter = parameters[int(match["index"])]
            if match["keyword"] in ("default", "maximum"):
                found.append(Site(name, f"param-{match['keyword']}", parameter["name"], path))
    return tuple(found)


def site(spec: VendorSpec, kind: str, where: str, endpoint: EndpointSpec | None = None) -> Site | None:
    """The site of this kind and place (for this endpoint, or vendor-wide), if an option decides it."""
    path = endpoint.path if endpoint is not None else None
    return next(
        (s for s in sites(spec) if s.kind == kind and s.where == where and s.endpoint in (path, None)),
        None,
    )


def option_value(spec: VendorSpec, name: str) -> Any:
    """The effective value of option ``name``."""
    return next(option.value for option in spec.options if option.name == name)


def option_choices(spec: VendorSpec, name: str) -> tuple[Any, ...] | None:
    """The allowed values of option ``name`` (None: any value of its type)."""
    return next(option.choices for option in spec.options if option.name == name)


def fix(spec: VendorSpec, name: str, value: Any) -> str:
    """How to make the emulator match: the ``--option`` and the options-file line."""
    line = option_line(spec.id, name, value)
    return f"--option {line} (options-file line: {line})"


def documented_default(spec: VendorSpec, endpoint: EndpointSpec, param: str) -> bool:
    """Whether a parameter's default is documented (no option sets it)."""
    return site(spec, "param-default", param, endpoint) is None
