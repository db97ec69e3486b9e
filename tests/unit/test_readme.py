"""The README is the five-minute page: what it is, install, the two commands, one request per vendor,
the plugin in ten lines, and links. The rest is under docs/, whose assumptions table is generated and
must be current. (tests/unit/test_docs_examples.py runs the examples of both.)
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

from mockserver.declarations.loading import discover_vendors
from tests.conftest import ROOT
from tests.unit.test_docs_examples import curl_commands, examples

README_MAX_LINES = 180  # about five minutes of reading


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


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def shipped_vendors() -> list[str]:
    """The vendors this repository ships: those whose declarations git tracks (every declared one
    outside a git checkout). A vendor a team copies in as data is served and tested like the others;
    its assumptions reach the page when it is committed and the script is run."""
    declared = discover_vendors(ROOT / "schemas")
    try:
        listed = subprocess.run(
            ["git", "ls-files", "schemas/*/openapi.json"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return declared
    tracked = {Path(path).parent.name for path in listed}
    return [vendor for vendor in declared if vendor in tracked] if tracked else declared


def test_the_assumptions_page_lists_every_assumption_of_the_shipped_declarations() -> None:
    script = _script()
    page = (ROOT / "docs" / "assumptions.md").read_text(encoding="utf-8")
    assert script.START in page  # type: ignore[attr-defined]
    current = script.updated(page, shipped_vendors())  # type: ignore[attr-defined]
    assert current == page, "run: python scripts/document_assumptions.py"


def test_the_readme_is_short() -> None:
    assert len(_readme().splitlines()) <= README_MAX_LINES


def test_the_readme_shows_the_two_commands_and_every_test_credential() -> None:
    readme = _readme()
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


def test_the_readme_sends_requests_to_declared_vendors_only() -> None:
    """A vendor added as data needs no README edit; a vendor removed must leave the README."""
    (block,) = [e for e in examples() if e.page == "README.md" and e.kind == "curl"]
    mounts = {re.search(r"8080/([^/]+)/", " ".join(c)).group(1) for c in curl_commands(block.code)}  # type: ignore[union-attr]
    assert len(mounts) >= 4
    assert mounts <= set(discover_vendors(ROOT / "schemas"))


def test_the_readme_shows_the_plugin_in_ten_lines() -> None:
    (plugin,) = [e for e in examples() if e.page == "README.md" and e.kind == "pytest"]
    assert len([line for line in plugin.code.splitlines() if line.strip()]) <= 10
    assert "_mock" in plugin.code


def test_the_install_section_comes_first_with_pip_and_the_git_url_then_the_two_commands() -> None:
    readme = _readme()
    headings = re.findall(r"^## (.+)$", readme, re.MULTILINE)
    assert headings[:2] == ["Install", "Working on this project: the two commands"]
    install = readme.split("## Install", 1)[1]
    first_block = re.search(r"```sh\n(.*?)```", install, re.DOTALL)
    assert first_block is not None
    lines = first_block.group(1).splitlines()
    assert lines[0].startswith("pip install vendor-emulator")
    assert any("git+https://" in line for line in lines)
    assert "vendor-emulator serve" in install.split("## Working on this project", 1)[0]


def test_the_readme_names_every_console_command() -> None:
    from mockserver.cli import COMMANDS

    readme = _readme()
    for command in [*COMMANDS, "contracts"]:
        assert f"vendor-emulator {command}" in readme, command


def test_the_assumptions_page_names_the_write_options_and_operations_by_method_and_path() -> None:
    page = (ROOT / "docs" / "assumptions.md").read_text(encoding="utf-8")
    assert "| `--option famulor.billing_period_days` | `30` |" in page
    assert "| `POST /api/user/phone-numbers/purchase` |" in page
    assert "| `DELETE /api/user/phone-numbers/{id}` |" in page
    assert "paths//" not in page
