"""Contactship: the promises of docs.contactship.ai for GET /v1/phone-numbers."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.documents.schemas import SchemaStore
from tests.conftest import VendorClient, strictly_valid
from tests.documented import CONTACTSHIP_PHONE_NUMBERS

LIST = "/v1/phone-numbers"


def by_created(records: list[dict[str, Any]], descending: bool) -> list[dict[str, Any]]:
    return sorted(records, key=lambda record: (record["created_at"], record["id"]), reverse=descending)


def test_defaults_are_five_newest_first_and_count_is_the_total(
    contactship: VendorClient, store: SchemaStore
) -> None:
    """get-phone-numbers: limit defaults to 5, offset to 0, order to desc; count is the total."""
    body = strictly_valid(store, contactship, LIST, contactship.get(LIST).json())
    records = contactship.records("phone-numbers")
    assert body["data"] == by_created(records, descending=True)[:5]
    assert body["count"] == len(records)


def test_order_asc_lists_oldest_first(contactship: VendorClient) -> None:
    body = contactship.get(LIST, params={"order": "asc", "limit": 100}).json()
    assert body["data"] == by_created(contactship.records("phone-numbers"), descending=False)


def test_limit_and_offset_page_through_every_number_once(contactship: VendorClient) -> None:
    seen: list[str] = []
    for offset in range(0, 30, 4):
        seen += [
            item["id"] for item in contactship.get(LIST, params={"limit": 4, "offset": offset}).json()["data"]
        ]
    assert seen == [r["id"] for r in by_created(contactship.records("phone-numbers"), descending=True)]


def test_offset_past_the_end_is_an_empty_page_with_the_count(contactship: VendorClient) -> None:
    body = contactship.get(LIST, params={"offset": 10_000}).json()
    assert body == {"data": [], "count": len(contactship.records("phone-numbers"))}


def test_limit_zero_returns_no_items_and_the_count(contactship: VendorClient) -> None:
    """limit must be >= 0; what 0 returns is undocumented (option zero_limit: empty)."""
    body = contactship.get(LIST, params={"limit": 0}).json()
    assert body == {"data": [], "count": len(contactship.records("phone-numbers"))}


@pytest.mark.parametrize("kind", ["inbound", "outbound"])
def test_type_filter_returns_only_that_type_and_count_stays_the_organization_total(
    contactship: VendorClient, kind: str
) -> None:
    """count: 'Total number of phone numbers in your organization' (option count_scope)."""
    body = contactship.get(LIST, params={"type": kind, "limit": 100}).json()
    expected = [r for r in contactship.records("phone-numbers") if r["type"] == kind]
    assert body["data"] == by_created(expected, descending=True)
    assert body["count"] == len(contactship.records("phone-numbers")) > len(expected)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "-1"}, "limit must not be less than 0"),
        ({"limit": "five"}, "limit must be an integer number"),
        ({"offset": "-3"}, "offset must not be less than 0"),
        ({"order": "newest"}, "order must be one of the following values: asc, desc"),
        ({"type": "both"}, "type must be one of the following values: inbound, outbound"),
        ({"type": ""}, "type should not be empty"),
    ],
)
def test_invalid_parameters_get_a_nestjs_400(
    contactship: VendorClient, params: dict[str, str], message: str
) -> None:
    """Error bodies are undocumented; NestJS's ValidationPipe body is assumed."""
    response = contactship.get(LIST, params=params)
    assert response.status_code == 400
    assert response.json() == {"statusCode": 400, "message": [message], "error": "Bad Request"}


def test_a_repeated_parameter_is_a_400(contactship: VendorClient) -> None:
    response = contactship.get(LIST, params=[("type", "inbound"), ("type", "outbound")])
    assert response.status_code == 400


def test_missing_or_invalid_key_is_a_401(contactship: VendorClient) -> None:
    """get-phone-numbers: 401 Unauthorized for an invalid or missing API key."""
    for headers in ({}, {"x-api-key": "wrong"}, {"Authorization": "Bearer contactship-test-key"}):
        response = contactship.get(LIST, auth=False, headers=headers)
        assert response.status_code == 401
        assert response.json() == {"statusCode": 401, "message": "Unauthorized"}


def test_responses_are_json_with_a_charset_like_express(contactship: VendorClient) -> None:
    assert contactship.get(LIST).headers["content-type"] == "application/json; charset=utf-8"


def test_documented_records_are_listed_oldest_first_as_in_the_docs_example_with_order_asc(
    contactship: VendorClient,
) -> None:
    """The docs' example lists its two records oldest first, although desc is the documented default."""
    data = contactship.get(LIST, params={"order": "asc", "limit": 100}).json()["data"]
    positions = [data.index(example) for example in CONTACTSHIP_PHONE_NUMBERS]
    assert positions == sorted(positions)


def test_unknown_path_is_nests_404(contactship: VendorClient) -> None:
    response = contactship.get("/v1/phone-number")
    assert response.status_code == 404
    assert response.json() == {
        "statusCode": 404,
        "message": "Cannot GET /v1/phone-number",
        "error": "Not Found",
    }


def test_the_default_first_page_opens_with_the_documented_numbers_newest_first(
    contactship: VendorClient,
) -> None:
    assert contactship.get(LIST).json()["data"][:2] == list(reversed(CONTACTSHIP_PHONE_NUMBERS))


def test_the_index_shows_the_documented_test_credential(contactship: VendorClient) -> None:
    index = {vendor["id"]: vendor for vendor in contactship.client.get("/__mock__").json()["vendors"]}
    assert index["contactship"]["test_credentials"] == [{"x-api-key": "contactship-test-key"}]
