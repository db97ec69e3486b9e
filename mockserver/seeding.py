"""Seeding: a test's own records, completed from the fixtures so that a partial record is enough.

``{"status": "free"}`` becomes a complete Butter number: the first fixture record that agrees with the
partial's top-level values is the template, the partial is merged over it (nested objects merge too),
and the key field gets a fresh value of the same shape (``phon_`` + hex stays ``phon_`` + hex; an integer
id becomes the next free integer). The result is validated like any record; an invalid one is refused
with the field and the rule, and nothing is stored.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
from collections.abc import Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mockserver.documents import read_json

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


def fresh_key(example: Any, taken: set[Any]) -> Any:
    """A key value not in ``taken``, shaped like ``example`` (hex digits redrawn, integers counted up)."""
    if isinstance(example, int) and not isinstance(example, bool):
        return max((key for key in taken if isinstance(key, int)), default=0) + 1
    for attempt in itertools.count():
        candidate = _reshaped(str(example), f"{example}/{len(taken)}/{attempt}")
        if candidate not in taken:
            return candidate
    raise AssertionError("unreachable")  # pragma: no cover


def complete(
    partials: Iterable[Mapping[str, Any]],
    templates: Sequence[Mapping[str, Any]],
    key: str,
    taken: Iterable[Any] = (),
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
            record[key] = fresh_key(template[key], used)
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
