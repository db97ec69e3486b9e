"""Every code example in the README and under docs/ runs in the tests, or says why it cannot.

A ```python or ```sh block is preceded by a marker comment that says what is done with it:

- ``<!-- example: python -->``: executed here, in-process (``mock_vendors()`` answers the vendors' hosts);
- ``<!-- example: pytest -->``: written to the file its first line names and run by pytest, with only the
  installed plugin;
- ``<!-- example: curl -->``: each ``curl`` command is replayed, with its URL and headers, against the
  in-process emulator, and must get a 200 with a JSON body;
- ``<!-- example: run: tests/…py -->``: that test module reads the block from the page and runs it (it must
  exist and name the page);
- ``<!-- example: not run: REASON -->``: not runnable here (a live vendor, a Docker daemon, a package
  index, a server that runs until stopped), and the reason says so.

A block without a marker fails the first test, so a new example is either run or explained.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mockserver import EmulatorConfig, create_app
from mockserver.intercept.transport import EmulatorTransport
from tests.conftest import ROOT

CODE = ("python", "sh", "bash", "shell", "console")
MARKER = re.compile(r"^<!-- example: (python|pytest|curl|run: (\S+)|not run: (\S.*?)) -->$")
FENCE = re.compile(r"^```(\S*)$")
DOCUMENTED_BASE = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class Example:
    """One fenced code block of a page, with the marker line before it (or ``""``)."""

    page: str
    line: int
    language: str
    marker: str
    code: str

    @property
    def kind(self) -> str:
        match = MARKER.match(self.marker)
        return "" if match is None else match.group(1).split(":", 1)[0]

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"


def pages() -> list[Path]:
    """The README and every page under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def examples() -> list[Example]:
    """Every ```python and ```sh (bash, shell, console) block of every page."""
    found: list[Example] = []
    for page in pages():
        lines = page.read_text(encoding="utf-8").splitlines()
        index = 0
        while index < len(lines):
            opening = FENCE.match(lines[index])
            if opening is None:
                index += 1
                continue
            end = lines.index("```", index + 1)
            if opening.group(1) in CODE:
                found.append(
                    Example(
                        page=page.relative_to(ROOT).as_posix(),
                        line=index + 1,
                        language=opening.group(1),
                        marker=lines[index - 1] if index else "",
                        code="\n".join(lines[index + 1 : end]) + "\n",
                    )
                )
            index = end + 1
    return found


def of_kind(kind: str) -> list[Example]:
    return [example for example in examples() if example.kind == kind]


def test_every_code_block_is_run_or_says_why_not() -> None:
    unmarked = [str(example) for example in examples() if not example.kind]
    assert not unmarked, f"add a <!-- example: ... --> marker (see {Path(__file__).name}): {unmarked}"


def test_the_readme_and_the_docs_have_examples_of_each_runnable_kind() -> None:
    kinds = {(example.page == "README.md", example.kind) for example in examples()}
    assert {(True, "pytest"), (True, "curl"), (False, "pytest"), (False, "python"), (False, "run")} <= kinds


def test_python_marks_python_and_shell_marks_shell() -> None:
    for example in examples():
        if example.kind in ("python", "pytest"):
            assert example.language == "python", example
        if example.kind == "curl":
            assert example.language == "sh", example


@pytest.mark.parametrize("example", of_kind("python"), ids=str)
def test_the_python_examples_run(example: Example) -> None:
    exec(compile(example.code, example.page, "exec"), {})


@pytest.mark.parametrize("example", of_kind("pytest"), ids=str)
def test_the_pytest_examples_pass_under_the_plugin(example: Example, tmp_path: Path) -> None:
    first = example.code.splitlines()[0]
    assert re.fullmatch(r"# test_\w+\.py", first), f"{example}: the first line names the test file"
    name = first[2:]
    (tmp_path / name).write_text(example.code, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", name],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
    assert " passed" in result.stdout
    assert " failed" not in result.stdout


def curl_commands(code: str) -> list[list[str]]:
    """Each ``curl`` command of a block, as words (continuation lines joined)."""
    joined = code.replace("\\\n", " ")
    return [shlex.split(line) for line in joined.splitlines() if line.strip().startswith("curl ")]


def as_request(words: list[str]) -> tuple[str, dict[str, str]]:
    """The URL and the headers of one ``curl -s URL -H 'Name: value' ...`` command."""
    assert words[0] == "curl"
    url = ""
    headers: dict[str, str] = {}
    rest = iter(words[1:])
    for word in rest:
        if word == "-H":
            name, _, value = next(rest).partition(":")
            headers[name.strip()] = value.strip()
        elif word.startswith("http"):
            url = word
        else:
            assert word == "-s", f"an option this test does not replay: {word}"
    assert url.startswith(f"{DOCUMENTED_BASE}/"), url
    return url.removeprefix(DOCUMENTED_BASE), headers


@pytest.fixture(scope="module")
def served() -> Iterator[httpx.Client]:
    """A fresh emulator of the repository's data, which the pages describe (no other test sees the calls)."""
    config = EmulatorConfig(schemas_dir=ROOT / "schemas", fixtures_dir=ROOT / "fixtures")
    transport = EmulatorTransport(create_app(config))
    with httpx.Client(transport=transport, base_url="http://emulator.test") as client:
        yield client


@pytest.mark.parametrize("example", of_kind("curl"), ids=str)
def test_the_curl_examples_answer_200_with_json(example: Example, served: httpx.Client) -> None:
    commands = curl_commands(example.code)
    assert commands, f"{example}: no curl command"
    for words in commands:
        path, headers = as_request(words)
        response = served.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text[:300])
        assert response.headers["content-type"].startswith("application/json")
        json.loads(response.content)


@pytest.mark.parametrize("example", of_kind("run"), ids=str)
def test_the_test_that_runs_a_block_exists_and_reads_that_page(example: Example) -> None:
    match = MARKER.match(example.marker)
    assert match is not None
    test_file = ROOT / match.group(2)
    assert test_file.is_file(), f"{example}: {test_file} does not exist"
    assert example.page in test_file.read_text(encoding="utf-8"), f"{test_file} does not read {example.page}"
