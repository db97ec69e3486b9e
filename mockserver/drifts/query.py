"""Query-string edits for the drifts that change a request: drop a parameter, set one, read one."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode


def pairs(query: bytes) -> list[tuple[str, str]]:
    """The query's name/value pairs, in order."""
    return parse_qsl(query.decode("latin-1"), keep_blank_values=True)


def value(query: bytes, name: str) -> str | None:
    """The first value of ``name`` (None when absent)."""
    return next((found for key, found in pairs(query) if key == name), None)


def without(query: bytes, *names: str) -> bytes:
    """The query with every ``name`` (and its array form ``name[]``) left out."""
    dropped = {*names, *(f"{name}[]" for name in names)}
    return urlencode([pair for pair in pairs(query) if pair[0] not in dropped]).encode("latin-1")


def with_value(query: bytes, name: str, text: str) -> bytes:
    """The query with ``name`` set to ``text`` (replacing any value it had)."""
    return urlencode([*pairs(without(query, name)), (name, text)]).encode("latin-1")
