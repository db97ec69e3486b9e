"""The short version of ``make chaos`` (bench/chaos.py): faults injected in turn under tenant churn.

Two servers (``--workers 2`` through a proxy, and one worker directly) on one real Redis; Redis killed
with ``kill -9`` and started again with its data, the first server cut off, then slowed by 100 ms per
chunk, one of its workers killed with ``kill -9``, Redis killed and started again empty; every read
checked against the oracle of acknowledged writes. The promise: no wrong answer, no
lost acknowledged write, every fault converged, no vendor read failed, no traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.system.redis_harness import REDIS

FAULTS = "redis-kill,partition,slow,worker-kill,redis-empty"

pytestmark = [
    pytest.mark.skipif(REDIS is None, reason="redis-server not found (make test installs it)"),
    pytest.mark.xdist_group("shared-state"),
]


def test_a_short_chaos_run_answers_right_and_loses_no_acknowledged_write(tmp_path: Path) -> None:
    report = tmp_path / "chaos.json"
    command = [sys.executable, str(ROOT / "bench" / "chaos.py"), "--seconds", "40", "--faults", FAULTS,
               "--fault-seconds", "4", "--quiet-seconds", "1", "--every", "10",
               "--json", str(report)]  # fmt: skip
    run = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert report.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    summary = json.loads(report.read_text())
    assert summary["wrong_answers"] == 0, summary["examples"]
    assert summary["lost_writes"] == 0, summary["examples"]
    assert run.returncode == 0, run.stdout[-3000:]
    assert set(summary["convergence"]) == set(FAULTS.split(",")), "each fault injected and converged"
    assert summary["read_failures"] == 0, "vendor reads answered through every fault"
    assert summary["writes_acknowledged"] > 50, "the churn went on"
    assert summary["writes_refused"] > 0, "admin writes were refused while Redis was away"
    # refused with 503, never hung; a write sent to the worker killed with kill -9 loses its connection
    assert set(summary["writes_not_acknowledged_by_status"]) <= {"503", "connection lost"}
    assert summary["tracebacks"] == 0
