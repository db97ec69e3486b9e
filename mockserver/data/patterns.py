"""Strings that match a JSON Schema ``pattern``, drawn deterministically from a seed.

The seeder needs a fresh key that satisfies the key's schema (``^num_[0-9]{4}$``, ``^phon_[0-9a-f]{12}$``),
and the fixture generator needs ids of the same shape. Python's own regex parser reads the pattern; each
node kind (literal, class, repeat, group, alternation) is drawn by one small function. Unbounded repeats
are drawn short (at most three more than their minimum), and negated classes draw printable ASCII.
"""

from __future__ import annotations

import importlib
import string
from collections.abc import Callable, Iterable
from random import Random
from typing import Any

_PARSER: Any = importlib.import_module("re._parser")  # the stdlib's own pattern parser (no stubs)
PRINTABLE = [character for character in string.printable if character not in "\t\n\r\x0b\x0c"]
CATEGORIES = {
    "CATEGORY_DIGIT": string.digits,
    "CATEGORY_NOT_DIGIT": string.ascii_letters + "_-",
    "CATEGORY_WORD": string.ascii_letters + string.digits + "_",
    "CATEGORY_NOT_WORD": " -.+",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_SPACE": string.ascii_letters + string.digits,
}
EXTRA_REPEATS = 3


class UnsupportedPattern(ValueError):  # noqa: N818 - reads as the problem it reports
    """The pattern uses a construct that cannot be drawn from (a lookaround or a back-reference)."""


def _class_members(items: Iterable[tuple[Any, Any]]) -> tuple[list[str], bool]:
    members: list[str] = []
    negated = False
    for op, value in items:
        name = str(op)
        if name == "NEGATE":
            negated = True
        elif name == "LITERAL":
            members.append(chr(value))
        elif name == "RANGE":
            members += [chr(code) for code in range(value[0], value[1] + 1)]
        elif name == "CATEGORY":
            members += list(CATEGORIES[str(value)])
    return members, negated


def _draw_class(rng: Random, items: Any) -> str:
    members, negated = _class_members(items)
    if negated:
        members = [character for character in PRINTABLE if character not in members]
    return rng.choice(members)


def _draw_repeat(rng: Random, value: Any) -> str:
    low, high, body = value
    high = min(high, low + EXTRA_REPEATS)
    return "".join(_draw(rng, body) for _ in range(rng.randint(low, high)))


def _draw_branch(rng: Random, value: Any) -> str:
    return _draw(rng, rng.choice(value[1]))


def _draw(rng: Random, nodes: Any) -> str:
    out = []
    for op, value in nodes:
        draw = NODES.get(str(op))
        if draw is None:
            raise UnsupportedPattern(f"cannot draw from a pattern that uses {op}")
        out.append(draw(rng, value))
    return "".join(out)


NODES: dict[str, Callable[[Random, Any], str]] = {
    "LITERAL": lambda rng, value: chr(value),
    "NOT_LITERAL": lambda rng, value: rng.choice([c for c in PRINTABLE if c != chr(value)]),
    "ANY": lambda rng, value: rng.choice(string.ascii_letters + string.digits),
    "IN": _draw_class,
    "MAX_REPEAT": _draw_repeat,
    "MIN_REPEAT": _draw_repeat,
    "POSSESSIVE_REPEAT": _draw_repeat,
    "SUBPATTERN": lambda rng, value: _draw(rng, value[-1]),
    "ATOMIC_GROUP": _draw,
    "BRANCH": _draw_branch,
    "AT": lambda rng, value: "",
}


def draw_matching(pattern: str, rng: Random) -> str:
    """A string that ``re.fullmatch(pattern, ...)`` accepts, drawn from ``rng``."""
    try:
        parsed = _PARSER.parse(pattern)
    except Exception as error:  # noqa: BLE001 - re.error and friends: all mean "not a pattern we can read"
        raise UnsupportedPattern(f"not a regular expression: {error}") from None
    return _draw(rng, parsed)
