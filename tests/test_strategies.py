"""The Hypothesis strategies teams use to property-test their own parsing code."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

from mockserver.schemas import SchemaStore
from mockserver.strategies import list_responses, records
from tests.conftest import SCHEMAS

STORE = SchemaStore(SCHEMAS)
LISTS = {
    ("famulor", "/api/user/phone-numbers/all"): "famulor/phone-number-list.json",
    ("famulor", "/api/user/whatsapp/senders"): "famulor/whatsapp-sender-list.json",
    ("butter", "/api/phone-numbers"): "butter/phone-number-list.json",
    ("contactship", "/v1/phone-numbers"): "contactship/phone-number-list.json",
    ("mindhunters", "/api/v1/phone-numbers"): "mindhunters/phone-number-list.json",
}


@pytest.mark.parametrize(
    ("vendor", "dataset", "schema"),
    [
        ("famulor", "phone-numbers", "famulor/phone-number.json"),
        ("famulor", "whatsapp-senders", "famulor/whatsapp-sender.json"),
        ("butter", None, "butter/phone-number.json"),
        ("contactship", None, "contactship/phone-number.json"),
        ("mindhunters", None, "mindhunters/phone-number.json"),
    ],
)
def test_drawn_records_validate_strictly(vendor: str, dataset: str | None, schema: str) -> None:
    @settings(max_examples=15)
    @given(records(vendor, dataset))
    def check(record: dict[str, Any]) -> None:
        assert STORE.errors(SCHEMAS / schema, record, strict=True) == []

    check()


@pytest.mark.parametrize(("vendor", "path"), list(LISTS))
def test_drawn_list_responses_validate_strictly_and_page_consistently(vendor: str, path: str) -> None:
    @settings(max_examples=10)
    @given(list_responses(vendor, path))
    def check(body: dict[str, Any]) -> None:
        assert STORE.errors(SCHEMAS / LISTS[(vendor, path)], body, strict=True) == []

    check()
