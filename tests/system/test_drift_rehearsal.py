"""The sample consumer rehearsed with ``--vendor-drift=all``: the matrix tells the careful client from the
naive one, for every vendor, and no run hangs (issue 24, "Done when")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WALL = 240.0  # seconds; the run takes about 30 s on 2 busy cores


def test_the_matrix_tells_the_careful_clients_from_the_naive_ones(tmp_path: Path) -> None:
    report = tmp_path / "matrix.json"
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-cov",
            "tests/consumer/test_clients.py", "--vendor-drift=all", f"--vendor-drift-report={report}",
            f"--vendor-drift-report={tmp_path / 'matrix.md'}",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=WALL,
        check=False,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    output = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, output  # drifted failures are reported, not a red run
    assert "resilience matrix" in result.stdout, output
    assert elapsed < WALL
    matrix = json.loads(report.read_text(encoding="utf-8"))
    assert matrix["columns"][0] == {"drift": "plain", "passed": 10, "failed": 0, "failed_tests": []}
    for vendor in ("famulor", "butter", "contactship", "mindhunters"):
        tolerated = {
            client: {
                column["drift"]
                for column in matrix["columns"][1:]
                if column["drift"].startswith(f"{vendor}:")
                and matrix["tests"][f"tests/consumer/test_clients.py::test_{vendor}[{client}]"][
                    column["drift"]
                ]
                == "passed"
            }
            for client in ("naive", "careful")
        }
        assert tolerated["naive"] < tolerated["careful"], (vendor, tolerated)
    # a client paging for ever is cut by the request cap, with a message naming the drift and the cap
    cut = matrix["cut"]["butter:paging.cursor-ignored"]["tests/consumer/test_clients.py::test_butter[naive]"]
    assert "request cap" in cut
    assert "butter:paging.cursor-ignored" in cut
    assert "more than 300 requests" in cut
    assert "| `plain` | 10/10 |" in (tmp_path / "matrix.md").read_text(encoding="utf-8")
