"""A kind's declaration block as typed settings, parsed once when the kind is built.

Each paging style and filter kind declares a frozen dataclass of its settings (a subclass of
:class:`Settings`): one field per property of the JSON Schema fragment it declares, a field without a
default for each property the schema requires, ``Literal`` for a closed set of values. The kind names
that class as its ``settings_class``; the base constructor parses the block with :meth:`Settings.parse`,
and the kind reads only the typed fields afterwards, so a misspelt setting is a type error, not a
silent ``None``. The declaration was validated against the schema before any kind is built; ``parse``
only picks the fields out and freezes arrays into tuples.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Self


def _frozen(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


@dataclass(frozen=True)
class Settings:
    """The settings of a kind that has none; the base of every kind's settings."""

    @classmethod
    def parse(cls, block: Mapping[str, object]) -> Self:
        """The settings a declaration block gives (keys that are not settings, like ``style``, ignored)."""
        names = (field.name for field in fields(cls))
        return cls(**{name: _frozen(block[name]) for name in names if name in block})
