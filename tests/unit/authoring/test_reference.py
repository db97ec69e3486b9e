"""The declaration reference (schemas/README.md) is generated from the declaration schema and current.

The schema is declaration.schema.json completed by every paging style's and filter kind's own block."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator

from mockserver.authoring.reference import main, render
from mockserver.data.recipes import KIND_DOCS, KINDS
from mockserver.declarations.loading import declaration_schema
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
    definitions = declaration_schema()["$defs"]
    missing = [
        path
        for name, node in definitions.items()
        for path, sub in _fields(node, name)
        if "description" not in sub
    ]
    assert missing == []


def test_every_paging_style_lists_its_template_variables_and_has_a_pager() -> None:
    styles = Pager.kinds()
    assert set(styles) >= {"none", "offset", "page", "cursor"}
    assert all({"items", "total"} <= set(style.template_variables) for style in styles.values())
    text = render()
    assert all(f"### `style: {name}`" in text for name in styles)


def test_every_recipe_kind_is_documented() -> None:
    assert set(KIND_DOCS) == set(KINDS)
    assert all(f"| `{kind}` |" in render() for kind in KINDS)


def test_the_examples_are_valid_declarations_and_the_write_examples_are_famulors_own() -> None:
    schema = declaration_schema()
    shipped = json.loads((ROOT / "schemas" / "famulor" / "openapi.json").read_text(encoding="utf-8"))
    blocks = [
        operation["x-emulator"]
        for operations in shipped["paths"].values()
        for operation in operations.values()
        if isinstance(operation, dict) and "x-emulator" in operation
    ]
    examples = {name: node.get("examples", []) for name, node in schema["$defs"].items()}
    assert examples["write"]
    assert examples["catalogue"]
    for name, found in examples.items():
        validator = Draft202012Validator({"$defs": schema["$defs"], "$ref": f"#/$defs/{name}"})
        for example in found:
            assert list(validator.iter_errors(example)) == [], (name, example)
    assert all(example in blocks for example in examples["write"])
    assert examples["catalogue"] == list(shipped["x-emulator"]["catalogues"].values())
    assert render().count("```json") == sum(map(len, examples.values()))
