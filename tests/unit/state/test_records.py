"""Checking a fixture file's records in bulk refuses what checking them one at a time refuses, with the
same error for the same record."""

from __future__ import annotations

import gc
import json
import random
from typing import Any

import pytest

from mockserver.declarations.loading import load_vendor
from mockserver.documents.schemas import SchemaStore
from mockserver.state.records import InvalidRecord, check_all, checked_records, collector_paused
from tests.conftest import ROOT

STORE = SchemaStore(ROOT / "schemas")
SPEC = load_vendor(ROOT / "schemas" / "butter", STORE).datasets["phone-numbers"]
RECORDS: list[dict[str, Any]] = json.loads((ROOT / "fixtures" / "butter" / "phone-numbers.json").read_text())[
    "records"
]


def one_at_a_time(records: list[Any]) -> str | None:
    try:
        for _ in checked_records(STORE, SPEC, records):
            pass
    except (InvalidRecord, KeyError, TypeError) as error:
        return f"{type(error).__name__}: {error}"
    return None


def in_bulk(records: list[Any]) -> str | None:
    try:
        check_all(STORE, SPEC, records)
    except (InvalidRecord, KeyError, TypeError) as error:
        return f"{type(error).__name__}: {error}"
    return None


def damaged(rng: random.Random) -> list[Any]:
    records: list[Any] = [dict(record) for record in rng.sample(RECORDS, 12)]
    for _ in range(rng.randint(0, 2)):
        at = rng.randrange(len(records))
        if not isinstance(records[at], dict):
            continue
        damage = rng.choice(["duplicate", "invalid", "missing key", "list key", "not an object"])
        if damage == "duplicate":
            other = records[rng.randrange(len(records))]
            if isinstance(other, dict) and "phone_number_id" in other:
                records[at]["phone_number_id"] = other["phone_number_id"]
        elif damage == "invalid":
            records[at]["created_at"] = "2024-02-30T00:00:00Z"
        elif damage == "missing key":
            records[at].pop("phone_number_id", None)
        elif damage == "list key":
            records[at]["phone_number_id"] = ["phon_0123456789ab"]
        else:
            records[at] = ["not", "an", "object"]
    return records


@pytest.mark.parametrize("seed", range(200))
def test_the_bulk_check_refuses_the_same_record_with_the_same_error(seed: int) -> None:
    records = damaged(random.Random(seed))
    assert in_bulk(records) == one_at_a_time(records)


def test_good_records_pass_and_a_bad_one_is_named() -> None:
    assert in_bulk([dict(record) for record in RECORDS]) is None
    records = [dict(record) for record in RECORDS[:5]]
    records[3]["phone_number_id"] = records[1]["phone_number_id"]
    assert (
        in_bulk(records)
        == f"InvalidRecord: record 3: duplicate or unusable phone_number_id {records[1]['phone_number_id']!r}"
    )


def test_the_collector_is_paused_only_while_a_fixture_loads() -> None:
    assert gc.isenabled()
    seen = []

    def failing_load() -> None:
        with collector_paused():
            seen.append(gc.isenabled())
            raise RuntimeError

    with pytest.raises(RuntimeError):
        failing_load()
    assert seen == [False]
    assert gc.isenabled(), "turned back on, also after an error"
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled(), "left off when it was off"
    finally:
        gc.enable()
