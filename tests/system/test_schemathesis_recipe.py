"""The documented Schemathesis commands, run as printed against a served emulator: every check passes.

The commands are read from the "Fuzzing it with Schemathesis" block of docs/testing.md, so the page
cannot drift from what is tested. They run for every declared vendor; the only addition is a bound on the
number of examples (and a fixed seed), so that the suite stays fast and repeatable.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from mockserver.engine.emulator import Emulator, credential_headers
from mockserver.testing.schemathesis_hooks import cursor_paging, with_integral_numbers, with_issued_cursor
from tests.conftest import ROOT
from tests.system.test_distribution import started

BOUNDS = ["--max-examples", "25", "--generation-deterministic"]
BIN = Path(sys.executable).parent


def _recipe() -> list[str]:
    page = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    section = page.split("## Fuzzing it with Schemathesis", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None
    return block.group(1).splitlines()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    process, base = started(BIN, ROOT)
    yield base
    process.terminate()
    process.communicate(timeout=10)


def test_the_recipe_writes_a_config_and_runs_every_check() -> None:
    lines = _recipe()
    assert any(line.startswith("vendor-emulator schemathesis-config") for line in lines)
    (run,) = [line.strip() for line in lines if line.strip().startswith("schemathesis run")]
    assert "--checks all" in run
    assert "$vendor" in run


def test_the_printed_commands_pass_for_every_vendor(server: str, tmp_path: Path) -> None:
    """Positive and negative data (Schemathesis' default mode), all checks, no failure, for every vendor
    the installed server declares."""
    lines = _recipe()
    configure = next(line for line in lines if line.startswith("vendor-emulator schemathesis-config"))
    command = shlex.split(configure.split("#", 1)[0])
    subprocess.run([str(BIN / command[0]), *command[1:]], cwd=tmp_path, check=True, capture_output=True)
    assert (tmp_path / "schemathesis.toml").is_file()
    (template,) = [line.strip() for line in lines if line.strip().startswith("schemathesis run")]
    served = [vendor["id"] for vendor in httpx.get(f"{server}/__mock__").json()["vendors"]]
    assert served
    for vendor_id in served:
        printed = template.replace("$vendor", vendor_id).replace("http://127.0.0.1:8080", server)
        words = shlex.split(printed)
        result = subprocess.run(
            [str(BIN / words[0]), *words[1:], *BOUNDS],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, f"{vendor_id}:\n{result.stdout[-4000:]}"
        assert "No issues found" in result.stdout


def _case(server: str, vendor_id: str, path: str, query: dict[str, Any], positive: bool = True) -> Any:
    document = httpx.get(f"{server}/{vendor_id}/openapi.json").json()
    mode = SimpleNamespace(is_positive=positive)
    schema = SimpleNamespace(
        raw_schema=document,
        get_base_url=lambda: f"{server}/{vendor_id}",
        config=SimpleNamespace(headers_for=lambda operation: {}),
    )
    operation = SimpleNamespace(schema=schema, path=path, method="GET")
    return SimpleNamespace(
        operation=operation,
        query=query,
        headers={},
        meta=SimpleNamespace(generation=SimpleNamespace(mode=mode)),
    )


def test_a_generated_cursor_becomes_one_the_server_issued_for_the_same_filters(
    server: str, emulator: Emulator
) -> None:
    headers = credential_headers(emulator.vendors["butter"])[0]
    case = _case(server, "butter", "/api/phone-numbers", {"status": "free", "cursor": "0"})
    case.headers = headers
    mapped = with_issued_cursor(case)
    assert mapped.query["cursor"] != "0"
    response = httpx.get(f"{server}/butter/api/phone-numbers", params=mapped.query, headers=headers)
    assert response.status_code == 200


def test_negative_cases_and_endpoints_without_cursors_are_left_alone(server: str) -> None:
    negative = _case(server, "butter", "/api/phone-numbers", {"cursor": "0"}, positive=False)
    assert with_issued_cursor(negative).query == {"cursor": "0"}
    offset = _case(server, "contactship", "/v1/phone-numbers", {"limit": "3"})
    assert cursor_paging(offset) is None
    assert with_issued_cursor(offset).query == {"limit": "3"}


def test_a_cursor_with_no_next_page_is_dropped(server: str, emulator: Emulator) -> None:
    """When the query has a single page, the positive case is sent without a cursor."""
    headers = credential_headers(emulator.vendors["butter"])[0]
    seeded = httpx.post(f"{server}/__mock__/butter/seed", json={"records": [{"status": "free"}]})
    assert seeded.status_code == 200, seeded.text
    try:
        case = _case(server, "butter", "/api/phone-numbers", {"status": "free", "cursor": "x"})
        case.headers = headers
        assert with_issued_cursor(case).query == {"status": "free"}
    finally:
        httpx.post(f"{server}/__mock__/reset")


def test_a_whole_number_drawn_as_a_float_is_sent_as_an_integer() -> None:
    """JSON Schema's integer admits 10.0; no client writes ``page=10.0``, so positive cases send 10."""
    positive = SimpleNamespace(
        query={"page": 10.0, "per_page": 2.5, "status": "free"},
        meta=SimpleNamespace(generation=SimpleNamespace(mode=SimpleNamespace(is_positive=True))),
    )
    assert with_integral_numbers(positive).query == {"page": 10, "per_page": 2.5, "status": "free"}
    negative = SimpleNamespace(
        query={"page": 10.0},
        meta=SimpleNamespace(generation=SimpleNamespace(mode=SimpleNamespace(is_positive=False))),
    )
    assert with_integral_numbers(negative).query == {"page": 10.0}
