"""The drift rehearsal (``pytest --vendor-drift``): reading the option, expanding it against the vendors'
catalogues, bounding a drifted test, and the matrix in its three renderings."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from mockserver.drifts import VendorDrifts
from mockserver.engine.config import EmulatorConfig
from mockserver.engine.emulator import build_emulator
from mockserver.testing.rehearsal import (
    Asked,
    DriftCase,
    Matrix,
    RehearsalCutError,
    RequestBudget,
    expand,
    parse_option,
)
from tests.pytest_session import run_pytest


@pytest.fixture(scope="module")
def catalogues() -> dict[str, VendorDrifts]:
    emulator = build_emulator(EmulatorConfig())
    return {vendor_id: app.drifts for vendor_id, app in emulator.apps.items()}


# ---------------------------------------------------------------------- the option


def test_all_is_every_drift_and_stands_alone() -> None:
    assert parse_option(["all"]) is None
    with pytest.raises(ValueError, match="name no other drift"):
        parse_option(["all,field.null"])


def test_ids_are_bare_or_vendor_qualified_and_parameters_continue_after_commas() -> None:
    asked = parse_option(
        [
            "field.null,butter:field.renamed:field=phone_number,to=msisdn",
            "transport.burst:status=429,retry_after=0",
        ]
    )
    assert asked == [
        Asked(None, "field.null"),
        Asked("butter", "field.renamed", (("field", "phone_number"), ("to", "msisdn"))),
        Asked(None, "transport.burst", (("status", "429"), ("retry_after", "0"))),
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("to=x", "needs a drift before it"),
        ("butter:", "a drift is ID or VENDOR:ID"),
        ("butter:renamed", "a drift is ID or VENDOR:ID"),
        ("butter:field.renamed:to", "name=value pairs"),
        (",", "name drifts"),
    ],
)
def test_bad_syntax_says_what_a_drift_looks_like(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_option([value])


def test_a_bare_id_runs_for_every_vendor_where_it_applies(catalogues: dict[str, VendorDrifts]) -> None:
    cases = expand(parse_option(["paging.end-flag-never-false"]), catalogues)
    assert cases == [
        DriftCase("butter", "paging.end-flag-never-false"),
        DriftCase("mindhunters", "paging.end-flag-never-false"),
    ]


def test_all_expands_to_every_drift_of_every_vendor(catalogues: dict[str, VendorDrifts]) -> None:
    cases = expand(None, catalogues)
    assert len(cases) == sum(len(catalogue.listings) for catalogue in catalogues.values())
    assert DriftCase("famulor", "semantics.default-filter-changed") in cases


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("acme:field.null", "no vendor 'acme'; known: butter, contactship, famulor, mindhunters"),
        ("field.gone", "no drift 'field.gone' for any vendor; known: auth.header-renamed"),
        ("famulor:paging.cursor-ignored", "no drift 'paging.cursor-ignored' for famulor"),
        ("butter:field.renamed:colour=red", "butter:field.renamed: field.renamed has no parameter 'colour'"),
        ("transport.burst:status=418", "parameter 'status' is one of"),
    ],
)
def test_what_cannot_run_is_refused_naming_what_can(
    catalogues: dict[str, VendorDrifts], value: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        expand(parse_option([value]), catalogues)


# ---------------------------------------------------------------------- bounds


def test_the_request_cap_cuts_a_test_naming_the_drift_and_the_cap() -> None:
    budget = RequestBudget(DriftCase("butter", "paging.end-flag-never-false"), max_requests=3)
    for _ in range(3):
        budget.charge()
    with pytest.raises(
        RehearsalCutError, match=r"under drift butter:paging.end-flag-never-false: more than 3"
    ):
        budget.charge()
    with pytest.raises(RehearsalCutError):  # and every request after it
        budget.charge()
    assert budget.cut is not None


def test_the_time_bound_cuts_a_test_at_its_next_request() -> None:
    budget = RequestBudget(DriftCase("butter", "transport.latency"), timeout=5.0)
    budget.charge()
    budget.started = time.monotonic() - 6.0
    with pytest.raises(RehearsalCutError, match=r"ran more than 5 s \(--vendor-drift-timeout\)"):
        budget.charge()


# ---------------------------------------------------------------------- the matrix


def sample() -> Matrix:
    cases = [
        DriftCase("butter", "field.null"),
        DriftCase("butter", "field.undocumented"),
        DriftCase("famulor", "x.y"),
    ]
    matrix = Matrix(cases)
    for test in ("t.py::test_naive", "t.py::test_careful"):
        matrix.record(test, "plain", "passed")
        matrix.record(test, "butter:field.undocumented", "passed")
    matrix.record("t.py::test_naive", "butter:field.null", "cut", "request cap reached")
    matrix.record("t.py::test_naive", "butter:field.null", "passed")  # a later phase does not undo it
    matrix.record("t.py::test_careful", "butter:field.null", "passed")
    return matrix


def test_the_matrix_points_out_drifts_every_test_passed_and_drifts_no_test_ran() -> None:
    matrix = sample()
    assert matrix.columns == ["plain", "butter:field.null", "butter:field.undocumented"]
    assert matrix.tally("butter:field.null") == (["t.py::test_careful"], ["t.py::test_naive"])
    assert matrix.tolerated() == ["butter:field.undocumented"]
    assert matrix.untried() == ["famulor:x.y"]


def test_the_json_report_has_each_column_each_test_and_the_cuts() -> None:
    report = json.loads(sample().to_json())
    assert report["columns"][1] == {
        "drift": "butter:field.null", "passed": 1, "failed": 1, "failed_tests": ["t.py::test_naive"]
    }  # fmt: skip
    assert report["tests"]["t.py::test_naive"]["butter:field.null"] == "cut"
    assert report["cut"] == {"butter:field.null": {"t.py::test_naive": "request cap reached"}}
    assert report["tolerated"] == ["butter:field.undocumented"]
    assert report["not_run"] == ["famulor:x.y"]


def test_the_markdown_report_is_a_table_of_drifts_by_tests() -> None:
    lines = sample().to_markdown().splitlines()
    assert lines[0] == "| drift | passed | `test_naive` | `test_careful` |"
    assert lines[2] == "| `plain` | 2/2 | pass | pass |"
    assert lines[3] == "| `butter:field.null` | 1/2 | **CUT** | pass |"
    assert (
        lines[-1]
        == "Every test passed under: `butter:field.undocumented` (tolerated, or no test would notice)."
    )


def test_the_terminal_summary_names_the_failed_tests_per_drift() -> None:
    lines = sample().to_text()
    assert lines[2].split() == ["butter:field.null", "1/2", "test_naive", "(cut)"]
    assert "tolerated, or no test would notice" in lines[4]
    assert lines[5].strip() == "butter:field.undocumented"
    assert lines[-1] == "not run (no test uses the vendor's mock): famulor:x.y"


# ---------------------------------------------------------------------- the plugin, end to end

SESSION = """
import httpx

URL = "https://api.getbutter.ai/api/phone-numbers"


def walk(headers):
    params, seen = {"page_size": 50}, 0
    while True:
        body = httpx.get(URL, params=params, headers=headers).json()
        seen += len(body["data"])
        if not body["pagination"]["has_more"]:
            return seen
        params["cursor"] = body["pagination"]["next_cursor"]


def test_walk(butter_mock):
    assert walk(butter_mock.headers) == 62


def test_swallowing_walk(butter_mock):
    try:
        walk(butter_mock.headers)
    except Exception:
        pass


def test_no_vendor():
    pass
"""


def pytest_run(tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return run_pytest(tmp_path, {"test_session.py": SESSION}, *options)


def test_a_rehearsal_runs_each_mocked_test_plain_and_drifted_and_reports_without_failing(
    tmp_path: Path,
) -> None:
    result = pytest_run(
        tmp_path, "--vendor-drift=butter:paging.cursor-ignored", "--vendor-drift-max-requests=20",
        f"--vendor-drift-report={tmp_path / 'm.json'}", "-rA",
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "PASSED test_session.py::test_walk[plain]" in output
    assert "FAILED test_session.py::test_walk[drift=butter:paging.cursor-ignored]" in output
    assert "PASSED test_session.py::test_no_vendor\n" in output  # no vendor fixture: run once, as it was
    report = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    # the client swallowed the cap's error: the test still fails, as cut
    assert report["tests"]["test_session.py::test_swallowing_walk"]["butter:paging.cursor-ignored"] == "cut"
    assert (
        "more than 20 requests" in report["cut"]["butter:paging.cursor-ignored"]["test_session.py::test_walk"]
    )
    assert "test_session.py::test_no_vendor" not in report["tests"]


def test_strict_makes_a_drifted_failure_fail_the_session(tmp_path: Path) -> None:
    result = pytest_run(
        tmp_path, "--vendor-drift=butter:paging.cursor-ignored", "--vendor-drift-strict",
        "--vendor-drift-max-requests=20",
    )  # fmt: skip
    assert result.returncode == 1, result.stdout[-3000:]
    assert "2 failed, 3 passed" in result.stdout


def test_a_plain_failure_still_fails_the_session(tmp_path: Path) -> None:
    (tmp_path / "test_more.py").write_text(
        "def test_broken(butter_mock):\n    assert False\n", encoding="utf-8"
    )
    result = pytest_run(tmp_path, "--vendor-drift=butter:field.null", "test_more.py")
    assert result.returncode == 1, result.stdout[-3000:]
    assert "FAILED test_more.py::test_broken[plain]" in result.stdout


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--vendor-drift=butter:field.gone"], "--vendor-drift: no drift 'field.gone' for butter"),
        (["--vendor-drift=all", "--vendor-drift-report=m.csv"], "the file's suffix names the format"),
        (["--vendor-drift-report=m.json"], "--vendor-drift-report needs --vendor-drift"),
    ],
)
def test_bad_options_stop_the_run_with_a_usage_error(
    tmp_path: Path, options: list[str], message: str
) -> None:
    result = pytest_run(tmp_path, *options)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr
