"""Done when: a made-up vendor, written into a temporary data directory, gets every generic test module,
with no test file edited (the suite is pointed at the directory by two environment variables)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES_ENV, ROOT, SCHEMAS, SCHEMAS_ENV
from tests.madeup import write_madeup

GENERIC_MODULES = [
    "tests/promises/test_meta.py",
    "tests/promises/test_pagination_properties.py",
    "tests/unit/testing/test_strategies.py",
    "tests/unit/contracts/test_contracts_drift.py",
    "tests/promises/test_hostile.py",
    "tests/promises/test_fuzz.py",
    "tests/promises/test_no_python_needed.py",
]


@pytest.mark.xdist_group("heavy")  # runs a whole pytest session: keep it off the load test's core time
def test_the_generic_modules_run_and_pass_for_a_made_up_vendor(tmp_path: Path) -> None:
    schemas, fixtures = write_madeup(tmp_path, SCHEMAS)
    environment = {
        **os.environ,
        SCHEMAS_ENV: str(schemas),
        FIXTURES_ENV: str(fixtures),
        "HYPOTHESIS_PROFILE": "quick",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-x", *GENERIC_MODULES],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    passed = [line for line in result.stdout.splitlines() if "PASSED" in line]
    assert not [line for line in result.stdout.splitlines() if "SKIPPED" in line or "FAILED" in line]
    for module in GENERIC_MODULES:
        assert [line for line in passed if line.startswith(module)], f"{module} ran nothing"
    assert len([line for line in passed if "madeup" in line]) >= 10, "the made-up vendor is what was tested"
