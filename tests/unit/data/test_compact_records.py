"""Compact records: a dataset holds its records as packed bytes, so memory follows their JSON size."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from mockserver.data.dataset import Blobs, Dataset, SortKey
from tests.conftest import ROOT

RECORDS = [
    {"id": f"n{index}", "fee": index / 4, "tags": ["a", str(index)], "note": None} for index in range(500)
]


def test_blobs_are_the_serialised_records_in_order() -> None:
    blobs = Blobs(orjson.dumps(record) for record in RECORDS)
    assert len(blobs) == len(RECORDS)
    assert [orjson.loads(blob) for blob in blobs] == RECORDS
    assert orjson.loads(blobs[-1]) == RECORDS[-1]
    assert [orjson.loads(blob) for blob in blobs[3:6]] == RECORDS[3:6]
    with pytest.raises(IndexError):
        blobs[len(RECORDS)]
    assert blobs.nbytes == sum(len(orjson.dumps(record)) for record in RECORDS) + 8 * len(RECORDS)


def test_a_dataset_reads_its_records_back_as_fresh_copies() -> None:
    data = Dataset(RECORDS, "id")
    assert list(data.records) == RECORDS
    assert data.records[7] == RECORDS[7]
    data.records[7]["fee"] = -1  # type: ignore[index]
    assert data.records[7]["fee"] == RECORDS[7]["fee"], "a read is a copy: the dataset cannot be changed"
    assert data.positions["n42"] == 42
    assert data.json_array([1, 0]) == orjson.dumps([RECORDS[1], RECORDS[0]])
    with pytest.raises(ValueError, match="duplicate"):
        Dataset([*RECORDS, RECORDS[0]], "id")


def test_a_loaded_dataset_is_the_dataset_of_its_records() -> None:
    by_fee: tuple[SortKey, ...] = (("fee", "desc"), ("id", "asc"))
    parsed = orjson.loads(orjson.dumps(RECORDS))
    loaded = Dataset.loaded(parsed, "id", [by_fee])
    built = Dataset(RECORDS, "id", [by_fee])
    assert list(loaded.blobs) == list(built.blobs)
    assert loaded.positions == built.positions
    assert loaded.built_ordering(by_fee) == built.built_ordering(by_fee) == built.ordering(by_fee)
    assert parsed == [None] * len(RECORDS), "each record is dropped once serialised"


SCRIPT = """
import json, sys, time
sys.path.insert(0, sys.argv[2])
from pathlib import Path
started = time.perf_counter()
from mockserver.serving.app import create_app
from mockserver.engine.config import EmulatorConfig
app = create_app(EmulatorConfig(fixtures_dir=Path(sys.argv[1])))
import ctypes
ctypes.CDLL("libc.so.6").malloc_trim(0)
status = Path("/proc/self/status").read_text()
rss = int(status.split("VmRSS:")[1].split()[0]) / 1024
print(json.dumps({"rss_mb": rss, "seconds": time.perf_counter() - started}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_100000_records_fit_in_150_mb(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.run import SCENARIOS, write_fixtures

    scale = next(scenario for scenario in SCENARIOS if scenario.name == "scale")
    fixtures = write_fixtures(tmp_path, scale)
    assert len(json.loads((fixtures / "butter" / "phone-numbers.json").read_text())["records"]) == 100_000
    # Loaded from the file (and prepared), then from the prepared form: both within the budget.
    environment = {**os.environ, "VENDOR_EMULATOR_CACHE_DIR": str(tmp_path / "cache")}
    for start in ("first", "prepared"):
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(fixtures), str(ROOT)],
            capture_output=True, text=True, timeout=120, check=True, env=environment,
        )  # fmt: skip
        measured = json.loads(result.stdout)
        assert measured["rss_mb"] <= 150, (start, measured)
        assert list((tmp_path / "cache").glob("*.prepared")), "the 24 MB file was prepared"
