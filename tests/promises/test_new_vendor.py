"""Done when: a made-up vendor, written into a temporary data directory, gets every generic test module,
with no test file edited (the suite is pointed at the directory by two environment variables); and a
fifth vendor beside the shipped ones breaks none of the modules that mix sweeps with named vendors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, FIXTURES_ENV, ROOT, SCHEMAS, SCHEMAS_ENV
from tests.madeup import write_fifth, write_madeup

GENERIC_MODULES = [
    "tests/promises/test_meta.py",
    "tests/promises/test_pagination_properties.py",
    "tests/unit/testing/test_strategies.py",
    "tests/unit/contracts/test_contracts_drift.py",
    "tests/promises/test_hostile.py",
    "tests/promises/test_fuzz.py",
    "tests/promises/test_no_python_needed.py",
    "tests/promises/test_drift_self_consistency.py",
]
# Sweeps over the declared vendors beside tests of named ones: no count, no list of the vendors.
BESIDE_MODULES = [
    "tests/promises/test_meta.py",
    "tests/unit/serving/test_app.py",
    "tests/unit/serving/test_inspector.py",
    "tests/unit/serving/test_inspector_scope.py",
    "tests/unit/serving/test_accesslog.py",
    "tests/unit/contracts/test_contracts_monitor.py::test_a_paging_signal_broken_on_the_last_page_is_found",
    "tests/unit/contracts/test_contracts_monitor.py::"
    "test_an_end_of_list_flag_that_never_turns_false_and_a_total_that_is_the_page_length",
]


def _passed(data: tuple[Path, Path], modules: list[str]) -> list[str]:
    """Run ``modules`` on the data (schemas, fixtures) in a pytest of their own; the PASSED lines."""
    schemas, fixtures = data
    environment = {
        **os.environ,
        SCHEMAS_ENV: str(schemas),
        FIXTURES_ENV: str(fixtures),
        "HYPOTHESIS_PROFILE": "quick",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-x", *modules],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert not [line for line in result.stdout.splitlines() if "SKIPPED" in line or "FAILED" in line]
    passed = [line for line in result.stdout.splitlines() if "PASSED" in line]
    for module in modules:
        assert [line for line in passed if line.startswith(module)], f"{module} ran nothing"
    return passed


@pytest.mark.xdist_group("heavy")  # runs a whole pytest session: keep it off the load test's core time
def test_the_generic_modules_run_and_pass_for_a_made_up_vendor(tmp_path: Path) -> None:
    passed = _passed(write_madeup(tmp_path, SCHEMAS), GENERIC_MODULES)
    assert len([line for line in passed if "madeup" in line]) >= 10, "the made-up vendor is what was tested"


@pytest.mark.xdist_group("heavy")
def test_a_fifth_vendor_beside_the_shipped_ones_breaks_no_test(tmp_path: Path) -> None:
    passed = _passed(write_fifth(tmp_path, SCHEMAS, FIXTURES), BESIDE_MODULES)
    assert len([line for line in passed if "madeup" in line]) >= 10, "the fifth vendor is swept too"
