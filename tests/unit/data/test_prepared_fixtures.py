"""Prepared fixtures: a large fixture file is loaded once, then read back from a cache keyed by its digest.

The cache is only a shortcut: what is served is the same, a changed or broken fixture is still checked
and refused, and a missing, corrupt or unwritable cache means the normal load.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mockserver.data.dataset import Blobs, Dataset, SortKey
from mockserver.declarations.loading import load_vendor
from mockserver.documents.schemas import SchemaStore
from mockserver.errors import DeclarationError
from mockserver.state import prepared as prepared_module
from mockserver.state.datasets import VendorDatasets, first_orderings
from mockserver.state.prepared import SUFFIX, PreparedCache, default_cache_dir
from tests.conftest import ROOT

RECORDS = [
    {"id": f"n{index:03}", "fee": (index * 7) % 5, "name": None if index % 3 else "x"} for index in range(60)
]
BY_FEE: tuple[SortKey, ...] = (("fee", "desc"), ("id", "asc"))
BY_NAME: tuple[SortKey, ...] = (("name", "asc"), ("id", "asc"))


def test_orderings_built_with_the_dataset_are_the_ones_built_on_first_use() -> None:
    eager = Dataset(RECORDS, "id", [BY_FEE, BY_NAME])
    lazy = Dataset(RECORDS, "id")
    for keys in (BY_FEE, BY_NAME):
        assert eager.ordering(keys) == lazy.ordering(keys)
    assert eager.positions == lazy.positions


def test_an_order_that_cannot_be_built_at_load_fails_where_it_did_before_on_first_use() -> None:
    mixed: list[dict[str, object]] = [{"id": "a", "fee": 1}, {"id": "b", "fee": "two"}]
    data = Dataset(mixed, "id", [BY_FEE])  # loading does not fail
    assert data.built_ordering(BY_FEE) is None
    with pytest.raises(TypeError):
        data.ordering(BY_FEE)


def test_a_packed_dataset_serves_the_same_records_keys_and_order() -> None:
    built = Dataset(RECORDS, "id", [BY_FEE])
    blobs = Blobs.packed(built.blobs.buffer, built.blobs.ends)
    packed = Dataset.packed(blobs, "id", list(built.positions), {BY_FEE: built.ordering(BY_FEE).order})
    assert list(packed.records) == RECORDS
    assert packed.positions == built.positions
    assert packed.ordering(BY_FEE) == built.ordering(BY_FEE)
    last = len(RECORDS) - 1
    for order in (
        [0] * len(RECORDS),
        [0, 0, *range(2, last + 1)],
        [*range(last), last + 1],
        [1.0, 0, *range(2, last + 1)],
    ):
        with pytest.raises(ValueError, match="permutation"):
            Dataset.packed(blobs, "id", list(built.positions), {BY_FEE: order})
    with pytest.raises(ValueError, match="end offsets"):
        Blobs.packed(built.blobs.buffer[:-1], built.blobs.ends)
    ends = built.blobs.ends
    ends[3], ends[4] = ends[4], ends[3]
    with pytest.raises(ValueError, match="end offsets"):
        Blobs.packed(built.blobs.buffer, ends)


@pytest.fixture
def butter(tmp_path: Path) -> tuple[SchemaStore, Path]:
    fixtures = tmp_path / "fixtures"
    shutil.copytree(ROOT / "fixtures", fixtures)
    return SchemaStore(ROOT / "schemas"), fixtures


def load(data: tuple[SchemaStore, Path], cache: PreparedCache | None) -> VendorDatasets:
    store, fixtures = data
    return VendorDatasets(load_vendor(ROOT / "schemas" / "butter", store), store, fixtures, prepared=cache)


def entries(directory: Path) -> list[Path]:
    return sorted(directory.glob("*" + SUFFIX))


def test_the_second_load_reads_the_prepared_form_and_serves_the_same(
    butter: tuple[SchemaStore, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = PreparedCache(tmp_path / "cache", min_bytes=0)
    loaded = load(butter, cache)
    first = loaded.dataset("default", "phone-numbers")
    default_order = first_orderings(loaded.spec, "phone-numbers")[0]
    assert len(entries(tmp_path / "cache")) == 1
    monkeypatch.setattr(SchemaStore, "fast_check", _never)  # a hit checks nothing again
    second = load(butter, cache).dataset("default", "phone-numbers")
    assert list(second.records) == list(first.records)
    assert second.positions == first.positions
    expected = first.ordering(default_order)
    monkeypatch.setattr("mockserver.data.dataset._columns", _never)  # the endpoint's default order is kept
    assert second.ordering(default_order) == expected


def _never(*_: object) -> object:
    raise AssertionError("the records were parsed and checked again")


def test_small_fixture_files_are_not_prepared(butter: tuple[SchemaStore, Path], tmp_path: Path) -> None:
    load(butter, PreparedCache(tmp_path / "cache"))  # the shipped files are far below 1 MiB
    assert not (tmp_path / "cache").exists()


def test_a_changed_fixture_is_loaded_and_checked_again(
    butter: tuple[SchemaStore, Path], tmp_path: Path
) -> None:
    cache = PreparedCache(tmp_path / "cache", min_bytes=0)
    load(butter, cache)
    path = butter[1] / "butter" / "phone-numbers.json"
    path.write_text(json.dumps({"records": [{"phone_number_id": 1}]}))
    with pytest.raises(DeclarationError, match="record 0"):
        load(butter, cache)
    records = json.loads((ROOT / "fixtures" / "butter" / "phone-numbers.json").read_text())["records"]
    path.write_text(json.dumps({"records": records[:2]}))
    assert len(load(butter, cache).dataset("default", "phone-numbers")) == 2


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "huge count"])
def test_a_corrupt_prepared_file_means_the_normal_load(
    butter: tuple[SchemaStore, Path], tmp_path: Path, damage: str
) -> None:
    cache = PreparedCache(tmp_path / "cache", min_bytes=0)
    expected = list(load(butter, cache).dataset("default", "phone-numbers").records)
    (entry,) = entries(tmp_path / "cache")
    raw = entry.read_bytes()
    header, start = prepared_module.HEADER, len(prepared_module.FORMAT)
    broken = {
        "truncate": raw[: len(raw) // 2],
        "flip": raw[:-10] + bytes([raw[-10] ^ 0xFF]) + raw[-9:],
        "garbage": b"not a prepared file",
        "huge count": raw[:start]
        + header.pack(1 << 60, *header.unpack(raw[start : start + header.size])[1:])
        + raw[start + header.size :],
    }[damage]
    entry.write_bytes(broken)
    assert list(load(butter, cache).dataset("default", "phone-numbers").records) == expected
    assert entry.read_bytes() == raw, "the normal load writes the prepared form again"


def test_an_unwritable_cache_directory_is_left_alone(
    butter: tuple[SchemaStore, Path], tmp_path: Path
) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the directory would be")
    data = load(butter, PreparedCache(blocker, min_bytes=0))
    assert len(data.dataset("default", "phone-numbers")) > 0
    assert blocker.read_text() == "a file where the directory would be"


def test_the_cache_keeps_within_its_byte_budget(butter: tuple[SchemaStore, Path], tmp_path: Path) -> None:
    cache = PreparedCache(tmp_path / "cache", min_bytes=0)
    load(butter, cache)
    (first,) = entries(tmp_path / "cache")
    cache.budget_bytes = first.stat().st_size  # room for one file
    records = json.loads((ROOT / "fixtures" / "butter" / "phone-numbers.json").read_text())["records"]
    (butter[1] / "butter" / "phone-numbers.json").write_text(json.dumps({"records": records[:3]}))
    load(butter, cache)
    (kept,) = entries(tmp_path / "cache")
    assert kept != first, "the least recently used file went"


def test_where_the_cache_lives(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(prepared_module.ENVIRONMENT, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "vendor-emulator"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "vendor-emulator"
    monkeypatch.setenv(prepared_module.ENVIRONMENT, str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
    monkeypatch.setenv(prepared_module.ENVIRONMENT, "off")
    assert default_cache_dir() is None
    assert PreparedCache.from_environment() is None
