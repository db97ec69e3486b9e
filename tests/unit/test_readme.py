"""The README states what the declarations say: its assumptions table is generated and must be current."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

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


def _testing_examples() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Testing your integration", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.DOTALL)


def test_the_testing_examples_are_there() -> None:
    assert len(_testing_examples()) == 2


def test_the_plain_python_examples_run() -> None:
    for block in _testing_examples():
        if not block.startswith("# test_"):
            exec(compile(block, "README.md", "exec"), {})


def test_the_pytest_examples_pass_under_the_plugin(tmp_path: Path) -> None:
    for block in _testing_examples():
        if block.startswith("# test_"):
            name = block.splitlines()[0][2:].strip()
            (tmp_path / name).write_text(block, encoding="utf-8")
            result = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", name],
                cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            assert result.returncode == 0, result.stdout[-3000:]
            assert " passed" in result.stdout


def test_the_install_section_comes_first_with_pip_and_the_git_url_then_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
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

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in [*COMMANDS, "contracts"]:
        assert f"vendor-emulator {command}" in readme, command
