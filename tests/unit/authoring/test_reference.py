"""The declaration reference (schemas/README.md) is generated from declaration.schema.json and current."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mockserver.authoring.reference import main, render
from mockserver.data.recipes import KIND_DOCS, KINDS
from mockserver.declarations.loading import DECLARATION_SCHEMA, PAGER_VARIABLES
from mockserver.documents.reading import read_json
from mockserver.kinds.paging import Pager
from tests.conftest import ROOT


def _fields(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{path}/{name}", sub
            yield from _fields(sub, f"{path}/{name}")
        for key in ("items", "additionalProperties"):
            yield from _fields(node.get(key), f"{path}/{key}")
        for key in ("oneOf", "allOf"):
            for number, branch in enumerate(node.get(key, [])):
                yield from _fields(branch, f"{path}/{key}/{number}")


def test_schemas_readme_is_what_the_generator_writes() -> None:
    """Regenerate with: python -m mockserver.authoring.reference"""
    assert (ROOT / "schemas" / "README.md").read_text(encoding="utf-8") == render()
    assert main(["--check"]) == 0


def test_every_declaration_field_says_what_it_means() -> None:
    definitions = read_json(DECLARATION_SCHEMA)["$defs"]
    missing = [
        path
        for name, node in definitions.items()
        for path, sub in _fields(node, name)
        if "description" not in sub
    ]
    assert missing == []


def test_every_paging_style_lists_its_template_variables_and_has_a_pager() -> None:
    assert set(PAGER_VARIABLES) == set(Pager.registry)
    assert all("items" in variables and "total" in variables for variables in PAGER_VARIABLES.values())
    text = render()
    assert all(f"### `style: {style}`" in text for style in PAGER_VARIABLES)


def test_every_recipe_kind_is_documented() -> None:
    assert set(KIND_DOCS) == set(KINDS)
    assert all(f"| `{kind}` |" in render() for kind in KINDS)
