"""Response templates: JSON with ``${name}`` placeholders, filled per request.

Envelopes are on the hot path, so they are compiled once: the template is serialised with
placeholders in place, then split around them into byte literals. Rendering is a join of those
literals with each value's JSON (``bytes`` values, such as a pre-serialised item array, go in as
they are). Error bodies are rarer and rendered from the tree, placeholders allowed in keys too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

WHOLE_PLACEHOLDER = re.compile(r"^\$\{([a-z_]+)\}$")
ANY_PLACEHOLDER = re.compile(r"\$\{([a-z_]+)\}")
SERIALISED_PLACEHOLDER = re.compile(rb'"\$\{([a-z_]+)\}"')


class CompiledTemplate:
    """A JSON template whose placeholders stand for whole values."""

    def __init__(self, template: Any) -> None:
        pieces = SERIALISED_PLACEHOLDER.split(orjson.dumps(template))
        self.literals: tuple[bytes, ...] = tuple(pieces[0::2])
        self.names: tuple[str, ...] = tuple(piece.decode("ascii") for piece in pieces[1::2])
        for literal in self.literals:
            if ANY_PLACEHOLDER.search(literal.decode("utf-8")):
                raise ValueError('a placeholder must be a whole JSON string value, e.g. "${items}"')

    def render(self, values: Mapping[str, Any]) -> bytes:
        """The template with each placeholder replaced by its value."""
        out = [self.literals[0]]
        for name, literal in zip(self.names, self.literals[1:], strict=True):
            value = values[name]
            out.append(value if isinstance(value, bytes) else orjson.dumps(value))
            out.append(literal)
        return b"".join(out)


def _interpolate(text: str, values: Mapping[str, Any]) -> str:
    return ANY_PLACEHOLDER.sub(lambda match: str(values.get(match.group(1), "")), text)


def render_tree(template: Any, values: Mapping[str, Any]) -> Any:
    """A copy of ``template`` with placeholders filled: a whole-string placeholder keeps its type."""
    if isinstance(template, str):
        whole = WHOLE_PLACEHOLDER.match(template)
        if whole is not None and whole.group(1) in values:
            return values[whole.group(1)]
        return _interpolate(template, values)
    if isinstance(template, list):
        return [render_tree(item, values) for item in template]
    if isinstance(template, dict):
        return {_interpolate(key, values): render_tree(item, values) for key, item in template.items()}
    return template


def placeholders(template: Any) -> set[str]:
    """Every placeholder name a template uses (for load-time checks)."""
    return set(ANY_PLACEHOLDER.findall(orjson.dumps(template).decode("utf-8")))
