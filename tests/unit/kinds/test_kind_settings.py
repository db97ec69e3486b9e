"""Promise: a kind's JSON Schema and its typed settings describe the same block.

Every registered paging style and filter kind parses its declaration block into a frozen dataclass of
settings and reads only those afterwards. The schema is what vendors are validated against, the
settings what the engine reads: a property only in the schema would be accepted and silently ignored,
a field only in the settings could never be declared. So, for every kind found in the registries: the
schema's properties are the settings' fields, the required properties are the fields without a
default, and a field typed with ``Literal`` allows exactly the schema's ``enum``.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar, Literal

import pytest

from mockserver.kinds.filters import Filter
from mockserver.kinds.paging import Pager
from mockserver.kinds.settings import Settings

Kind = type[Pager] | type[Filter]
KINDS: dict[str, Kind] = {
    **{f"paging style {name}": style for name, style in Pager.kinds().items()},
    **{f"filter kind {name}": kind for name, kind in Filter.kinds().items()},
}


def settings_type(kind: Kind) -> type[Settings]:
    """The settings class a kind declares by annotating ``settings``."""
    found = typing.get_type_hints(kind)["settings"]
    assert isinstance(found, type), f"{kind.__name__}.settings"
    assert issubclass(found, Settings), f"{kind.__name__}.settings"
    return found


def disagreements(kind: Kind) -> list[str]:
    """Where a kind's schema and its settings differ (empty when they agree)."""
    schema: Mapping[str, Any] = kind.schema
    settings = settings_type(kind)
    declared = dict(schema.get("properties", {}))
    required = set(schema.get("required", ()))
    parsed = {field.name: field for field in fields(settings)}
    hints = typing.get_type_hints(settings)
    problems = [f"schema property {name!r} is not a setting" for name in declared.keys() - parsed.keys()]
    problems += [f"setting {name!r} is not in the schema" for name in parsed.keys() - declared.keys()]
    for name in declared.keys() & parsed.keys():
        field = parsed[name]
        has_default = field.default is not MISSING or field.default_factory is not MISSING
        if (name in required) == has_default:
            problems.append(
                f"{name!r} is {'required' if name in required else 'optional'} in the schema "
                f"but {'has' if has_default else 'has no'} default in the settings"
            )
        if typing.get_origin(hints[name]) is Literal and set(typing.get_args(hints[name])) != set(
            declared[name].get("enum", ())
        ):
            problems.append(
                f"{name!r} allows {typing.get_args(hints[name])}, the schema {declared[name].get('enum')}"
            )
    return problems


@pytest.mark.parametrize("name", KINDS)
def test_schema_and_settings_agree(name: str) -> None:
    assert disagreements(KINDS[name]) == []


def test_every_kind_is_checked() -> None:
    assert {"paging style none", "paging style cursor", "filter kind equals"} <= KINDS.keys()


@dataclass(frozen=True)
class _LooseSettings(Settings):
    needle: str
    mode: Literal["fast", "slow"] = "fast"
    hidden: bool = False


class _LooseFilter(Filter):
    """A filter whose schema and settings disagree four ways (never registered for the tests above)."""

    kind = "test-loose"
    schema: ClassVar[Mapping[str, Any]] = {
        "description": "a mismatch.",
        "properties": {
            "needle": {"type": "string", "description": "x"},
            "mode": {"enum": ["fast", "careful"], "description": "x"},
            "extra": {"type": "string", "description": "x"},
        },
        "required": ["needle", "mode"],
    }
    settings: _LooseSettings

    def constraint(self, value: Any) -> None:
        return None


Filter.registry.pop(_LooseFilter.kind)


def test_a_kind_whose_schema_and_settings_disagree_is_caught() -> None:
    assert sorted(disagreements(_LooseFilter)) == sorted(
        [
            "schema property 'extra' is not a setting",
            "setting 'hidden' is not in the schema",
            "'mode' is required in the schema but has default in the settings",
            "'mode' allows ('fast', 'slow'), the schema ['fast', 'careful']",
        ]
    )


@pytest.mark.parametrize("style", Pager.kinds())
def test_a_style_s_signal_roles_are_among_its_template_variables(style: str) -> None:
    """A checker finds a style's total or end-of-list flag by role; the role must name a real variable."""
    kind = Pager.kinds()[style]
    assert set(kind.signal_roles.values()) <= set(kind.template_variables)
