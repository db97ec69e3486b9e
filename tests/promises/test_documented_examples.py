"""The vendors' documented example records, copied from their docs (tests/documented.py), are in the
fixtures verbatim: the recipes carry them, and these tests pin them to the docs, vendor by vendor."""

from __future__ import annotations

import json

import pytest

from mockserver.documents.reading import read_json
from tests.conftest import ROOT
from tests.documented import MINDHUNTERS_REAL_VALUES, VERBATIM

FIXTURES = ROOT / "fixtures"


@pytest.mark.parametrize(("vendor_id", "dataset"), list(VERBATIM))
def test_documented_example_records_are_in_the_fixtures_verbatim(vendor_id: str, dataset: str) -> None:
    records = read_json(FIXTURES / vendor_id / f"{dataset}.json")["records"]
    for example in VERBATIM[(vendor_id, dataset)]:
        assert example in records
        stored = next(record for record in records if record == example)
        assert list(stored) == list(example), "same keys in the same order"


def test_mindhunters_documented_example_keeps_its_real_values() -> None:
    records = read_json(FIXTURES / "mindhunters" / "phone-numbers.json")["records"]
    example = next(
        r for r in records if r["phone_number_uuid"] == MINDHUNTERS_REAL_VALUES["phone_number_uuid"]
    )
    assert {key: example[key] for key in MINDHUNTERS_REAL_VALUES} == MINDHUNTERS_REAL_VALUES
    assert "<string>" not in json.dumps(example)
