"""The README states what the declarations say: its assumptions table is generated and must be current."""

from __future__ import annotations

import importlib.util
import sys

from tests.conftest import ROOT


def _script() -> object:
    spec = importlib.util.spec_from_file_location(
        "document_assumptions", ROOT / "scripts" / "document_assumptions.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["document_assumptions"] = module
    spec.loader.exec_module(module)
    return module


def test_the_readme_lists_every_assumption_of_the_declarations() -> None:
    script = _script()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert script.updated(readme) == readme, "run: python scripts/document_assumptions.py"  # type: ignore[attr-defined]


def test_the_readme_shows_the_two_commands_and_every_test_credential() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for text in (
        "make serve",
        "make test",
        "famulor-test-key",
        "bk_test_butter",
        "org_test",
        "contactship-test-key",
        "mindhunters-test-token",
    ):
        assert text in readme
