"""Reading vendor documents: JSON files, JSON pointers and the substitution of named options.

A vendor's OpenAPI document may declare *options*: the choices the vendor's docs leave open
(a default page size, a sort direction). An option has a default value and is referred to in two
ways: ``"${opt:name}"`` strings anywhere in an ``x-emulator`` block, and JSON pointers listed in
the option's ``targets`` for places in the OpenAPI proper (a parameter's ``default``), which hold the
literal default so the file stays valid OpenAPI for other tools.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mockserver.errors import DeclarationError

OPTION_REFERENCE = re.compile(r"^\$\{opt:([a-z][a-z0-9_]*)\}$")


def read_json(path: Path) -> Any:
    """Parse a JSON file, naming the file and the line of the problem on failure."""
    try:
        with path.open("rb") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise DeclarationError(path, "file not found") from None
    except json.JSONDecodeError as error:
        raise DeclarationError(
            path, f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    except UnicodeDecodeError:
        raise DeclarationError(path, "not UTF-8 text") from None


def pointer_tokens(pointer: str) -> list[str]:
    """Split an RFC 6901 JSON pointer into its unescaped reference tokens."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"JSON pointer must start with '/': {pointer!r}")
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]


def _step(node: Any, token: str) -> Any:
    if isinstance(node, list):
        return node[int(token)]
    if isinstance(node, dict):
        return node[token]
    raise KeyError(token)


def path_get(document: Any, path: Sequence[str] | None) -> Any:
    """The value at a path of object keys (``("data", "items")``); None when the path is None or any
    step is missing or not an object. The lenient reading of a response body, unlike a JSON pointer.
    """
    if path is None:
        return None
    node = document
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def pointer_set(document: Any, pointer: str, value: Any) -> None:
    """Replace the value at an existing ``pointer``."""
    *parents, last = pointer_tokens(pointer)
    node = document
    for token in parents:
        node = _step(node, token)
    if isinstance(node, list):
        node[int(last)] = value
    else:
        _step(node, last)  # the target must exist: options retarget values, they do not invent them
        node[last] = value


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, int | float) and isinstance(value, int | float):
        return isinstance(default, float) or isinstance(value, int)
    return type(default) is type(value)


def _checked_value(source: Path, name: str, spec: Mapping[str, Any], value: Any) -> Any:
    default = spec["value"]
    if not _same_kind(default, value):
        raise DeclarationError(
            source,
            f"option {name!r} takes a {type(default).__name__}, got {value!r} ({type(value).__name__})",
        )
    choices = spec.get("choices")
    if choices is not None and value not in choices:
        raise DeclarationError(source, f"option {name!r} must be one of {choices}, got {value!r}")
    return value


def _substitute(node: Any, values: Mapping[str, Any], source: Path) -> Any:
    if isinstance(node, str):
        match = OPTION_REFERENCE.match(node)
        if match is None:
            return node
        if match.group(1) not in values:
            raise DeclarationError(source, f"{node} refers to an undeclared option")
        return values[match.group(1)]
    if isinstance(node, list):
        return [_substitute(item, values, source) for item in node]
    if isinstance(node, dict):
        return {key: _substitute(item, values, source) for key, item in node.items()}
    return node


def resolve_options(
    document: Mapping[str, Any], overrides: Mapping[str, Any], source: Path
) -> dict[str, Any]:
    """Return a copy of ``document`` with every option set to its override or default.

    Overrides are checked against the option's type and choices; an unknown option name is an error,
    so a typo in ``--option`` never passes silently.
    """
    resolved: dict[str, Any] = copy.deepcopy(dict(document))
    declared: Mapping[str, Any] = resolved.get("x-emulator", {}).get("options", {})
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise DeclarationError(source, f"unknown option(s) {unknown}; declared: {sorted(declared)}")
    values = {
        name: _checked_value(source, name, spec, overrides.get(name, spec["value"]))
        for name, spec in declared.items()
    }
    for name, spec in declared.items():
        for target in spec.get("targets", ()):
            try:
                pointer_set(resolved, target, values[name])
            except (KeyError, IndexError, ValueError):
                raise DeclarationError(
                    source, f"option {name!r} targets {target}, which does not exist"
                ) from None
    substituted: dict[str, Any] = _substitute(resolved, values, source)
    return substituted
