"""The Hypothesis strategies teams use to property-test their own parsing code, for every declared vendor."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

from mockserver.documents.schemas import SchemaStore
from mockserver.engine.emulator import build_emulator
from mockserver.testing.strategies import list_responses, records
from tests.conftest import FIXTURES, SCHEMAS, data_config

STORE = SchemaStore(SCHEMAS)
SPECS = build_emulator(data_config()).vendors
DATA = {"schemas_dir": SCHEMAS, "fixtures_dir": FIXTURES}
DATASETS = [(vendor_id, name) for vendor_id, spec in SPECS.items() for name in spec.datasets]
LISTS = [(vendor_id, endpoint.path) for vendor_id, spec in SPECS.items() for endpoint in spec.endpoints]


@pytest.mark.parametrize(("vendor", "dataset"), DATASETS)
def test_drawn_records_validate_strictly(vendor: str, dataset: str) -> None:
    schema = SPECS[vendor].datasets[dataset].schema

    @settings(max_examples=15)
    @given(records(vendor, dataset, **DATA))
    def check(record: dict[str, Any]) -> None:
        assert STORE.errors(schema, record, strict=True) == []

    check()


@pytest.mark.parametrize(("vendor", "path"), LISTS)
def test_drawn_list_responses_validate_strictly_and_page_consistently(vendor: str, path: str) -> None:
    schema = next(e.response_schema for e in SPECS[vendor].endpoints if e.path == path)

    @settings(max_examples=10)
    @given(list_responses(vendor, path, **DATA))
    def check(body: dict[str, Any]) -> None:
        assert STORE.errors(schema, body, strict=True) == []

    check()
