"""Seeding: a test's own records, completed from the fixtures so that a partial record is enough.

``{"status": "free"}`` becomes a complete Butter number: the first fixture record that agrees with the
partial's top-level values is the template, the partial is merged over it (nested objects merge too),
and the key field gets a fresh value that satisfies the key's schema: drawn from its ``pattern``
(``^num_[0-9]{4}$``), a UUID for ``format: uuid``, the next free integer for an integer id, and otherwise
the template's value with its hex digits redrawn (``phon_`` + hex stays ``phon_`` + hex). The result is
validated like any record; an invalid one is refused with the field and the rule, and nothing is stored.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import uuid
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from random import Random
from typing import Any

from mockserver.data.patterns import draw_matching
from mockserver.documents.reading import read_json

HEX = "0123456789abcdef"


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` laid over it; nested objects merge, anything else is replaced."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def template_for(partial: Mapping[str, Any], templates: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The template that agrees with most top-level scalars of ``partial`` (the first, on a tie)."""
    scalars = {key: value for key, value in partial.items() if not isinstance(value, Mapping | list)}
    return max(
        templates, key=lambda template: sum(template.get(key) == value for key, value in scalars.items())
    )


def _reshaped(example: str, salt: str) -> str:
    digits = hashlib.sha256(salt.encode("utf-8")).hexdigest() * 4
    cursor = iter(digits)
    return "".join(next(cursor) if character in HEX else character for character in example.lower())


def _drawer(example: Any, key_schema: Mapping[str, Any]) -> Callable[[str], Any]:
    """How to draw one candidate key from a salt, given the key's (resolved) schema."""
    pattern = key_schema.get("pattern")
    if isinstance(pattern, str):
        return lambda salt: draw_matching(pattern, Random(salt))
    if key_schema.get("format") == "uuid":
        return lambda salt: str(uuid.UUID(int=Random(salt).getrandbits(128), version=4))
    return lambda salt: _reshaped(str(example), salt)


def fresh_key(example: Any, taken: set[Any], key_schema: Mapping[str, Any] | None = None) -> Any:
    """A key value not in ``taken`` that satisfies ``key_schema`` (or is shaped like ``example``).

    Integers count up from the largest taken one; strings are drawn from the schema's ``pattern`` or
    ``format``, or else are ``example`` with its hex digits redrawn. The draw is deterministic.
    """
    if isinstance(example, int) and not isinstance(example, bool):
        return max((key for key in taken if isinstance(key, int)), default=0) + 1
    draw = _drawer(example, key_schema or {})
    for attempt in itertools.count():
        candidate = draw(f"{example}/{len(taken)}/{attempt}")
        if candidate not in taken:
            return candidate
    raise AssertionError("unreachable")  # pragma: no cover


def complete(
    partials: Iterable[Mapping[str, Any]],
    templates: Sequence[Mapping[str, Any]],
    key: str,
    taken: Iterable[Any] = (),
    key_schema: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Full records from partial ones; keys the caller gives are kept, missing ones are drawn fresh."""
    partials = list(partials)
    for partial in partials:
        if not isinstance(partial, Mapping):
            raise TypeError(f"a record is a JSON object, got {type(partial).__name__}")
    used = set(taken) | {
        partial[key] for partial in partials if key in partial and isinstance(partial[key], Hashable)
    }
    records = []
    for partial in partials:
        template = template_for(partial, templates)
        record = merge(template, partial)
        if key not in partial:
            record[key] = fresh_key(template[key], used, key_schema)
            used.add(record[key])
        records.append(record)
    return records


def records_from_file(path: Path) -> list[Mapping[str, Any]]:
    """Records from a fixture file: ``{"records": [...]}`` or a bare JSON array."""
    document = read_json(path)
    records = document.get("records") if isinstance(document, dict) else document
    if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
        raise ValueError(f'{path}: expected a JSON array of objects or {{"records": [...]}}')
    return records
