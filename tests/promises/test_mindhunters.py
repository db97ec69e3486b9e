"""Mindhunters: the promises of developers.mindhunters.ai for GET /api/v1/phone-numbers."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.documents.schemas import SchemaStore
from tests.conftest import VendorClient, strictly_valid
from tests.documented import MINDHUNTERS_REAL_VALUES

LIST = "/api/v1/phone-numbers"
EXAMPLE_UUID = MINDHUNTERS_REAL_VALUES["phone_number_uuid"]


def everything(client: VendorClient, **params: Any) -> list[dict[str, Any]]:
    body = client.get(LIST, params={"per_page": 100, **params}).json()
    assert body["data"]["pagination"]["last_page"] == 1, "the fixtures fit one page of 100"
    items: list[dict[str, Any]] = body["data"]["items"]
    return items


def bought(client: VendorClient) -> list[dict[str, Any]]:
    return [r for r in client.records("phone-numbers") if not r["is_external"]]


def test_default_page_is_25_numbers_in_the_documented_envelope(
    mindhunters: VendorClient, store: SchemaStore
) -> None:
    body = strictly_valid(store, mindhunters, LIST, mindhunters.get(LIST).json())
    assert body["success"] is True
    assert isinstance(body["message"], str)
    pagination = body["data"]["pagination"]
    total = len(bought(mindhunters))
    assert len(body["data"]["items"]) == 25
    assert pagination == {
        "current_page": 1,
        "per_page": 25,
        "total": total,
        "last_page": -(-total // 25),
        "from": 1,
        "to": 25,
        "has_more": True,
    }


def test_the_last_page_is_partial_and_has_no_more(mindhunters: VendorClient) -> None:
    total = len(bought(mindhunters))
    last = -(-total // 25)
    body = mindhunters.get(LIST, params={"page": last}).json()["data"]
    assert body["pagination"]["from"] == (last - 1) * 25 + 1
    assert body["pagination"]["to"] == total
    assert body["pagination"]["has_more"] is False
    assert len(body["items"]) == total - (last - 1) * 25


def test_a_page_past_the_end_is_empty_with_null_from_and_to(mindhunters: VendorClient) -> None:
    pagination = mindhunters.get(LIST, params={"page": 99}).json()["data"]["pagination"]
    assert (pagination["from"], pagination["to"], pagination["has_more"]) == (None, None, False)


def test_external_numbers_are_listed_only_with_include_external(mindhunters: VendorClient) -> None:
    """include_external: 'If true, also include numbers ... that weren't bought through us.'"""
    assert {item["is_external"] for item in everything(mindhunters)} == {False}
    for flag in ("1", "true"):
        assert len(everything(mindhunters, include_external=flag)) == len(
            mindhunters.records("phone-numbers")
        )
    for flag in ("0", "false"):
        assert len(everything(mindhunters, include_external=flag)) == len(bought(mindhunters))


def test_the_documented_example_is_served_with_include_external(mindhunters: VendorClient) -> None:
    """The documented example has is_external: true, so it is listed only when externals are included."""
    assert EXAMPLE_UUID not in {i["phone_number_uuid"] for i in everything(mindhunters)}
    served = {i["phone_number_uuid"]: i for i in everything(mindhunters, include_external="1")}
    assert {key: served[EXAMPLE_UUID][key] for key in MINDHUNTERS_REAL_VALUES} == MINDHUNTERS_REAL_VALUES


@pytest.mark.parametrize(
    ("param", "field", "values"),
    [
        ("status", "status", ["active", "pending", "inactive"]),
        ("type", "type", ["local", "toll_free", "mobile", "national"]),
        ("compliance", "compliance.status", ["completed", "requirement_pending"]),
        ("country_code", "country_code", ["US", "DE", "GB"]),
    ],
)
def test_each_filter_returns_exactly_the_matching_numbers(
    mindhunters: VendorClient, param: str, field: str, values: list[str]
) -> None:
    for value in values:
        expected = [r["phone_number_uuid"] for r in bought(mindhunters) if _get(r, field) == value]
        listed = [item["phone_number_uuid"] for item in everything(mindhunters, **{param: value})]
        assert expected
        assert sorted(listed) == sorted(expected), value


def _get(record: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        record = record[part]
    return record


def test_country_code_matches_regardless_of_case(mindhunters: VendorClient) -> None:
    assert everything(mindhunters, country_code="de") == everything(mindhunters, country_code="DE")


def test_search_matches_part_of_the_number_or_the_country(mindhunters: VendorClient) -> None:
    """'Free-text search on number or country' (the parameter's name, search, is an inference)."""
    one = bought(mindhunters)[5]
    digits = one["number"][-6:]
    assert one["phone_number_uuid"] in {
        i["phone_number_uuid"] for i in everything(mindhunters, search=digits)
    }
    assert all(digits in i["number"] for i in everything(mindhunters, search=digits))
    by_country = everything(mindhunters, search="nl")
    assert by_country
    assert all(i["country_code"] == "NL" or "nl" in i["number"].lower() for i in by_country)
    assert everything(mindhunters, search="no-such-number") == []


def test_bound_to_agent_matches_a_binding_on_any_channel(mindhunters: VendorClient) -> None:
    """bound_to_agent_uuid: 'Filter to numbers bound to a specific agent on any channel'."""
    agent = next(
        binding["agent_uuid"]
        for record in bought(mindhunters)
        for binding in record["bindings"].values()
        if binding["bound"]
    )
    expected = {
        r["phone_number_uuid"]
        for r in bought(mindhunters)
        if any(binding["agent_uuid"] == agent for binding in r["bindings"].values())
    }
    listed = {i["phone_number_uuid"] for i in everything(mindhunters, bound_to_agent_uuid=agent)}
    assert listed == expected
    channels = {
        channel
        for r in bought(mindhunters)
        for channel, b in r["bindings"].items()
        if b["agent_uuid"] == agent
    }
    assert len(channels) > 1, "the fixtures bind this agent on more than one channel"


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("created_at", lambda r: (r["purchased_at"], r["phone_number_uuid"])),
        ("monthly_fee", lambda r: (r["billing"]["monthly_fee"], r["phone_number_uuid"])),
        ("number", lambda r: (r["number"], r["phone_number_uuid"])),
    ],
)
def test_sort_orders_ascending_with_the_uuid_breaking_ties(
    mindhunters: VendorClient, sort: str, key: Any
) -> None:
    """Direction is undocumented (option sort_direction: asc); created_at is the item's purchased_at."""
    listed = [i["phone_number_uuid"] for i in everything(mindhunters, sort=sort)]
    assert listed == [r["phone_number_uuid"] for r in sorted(bought(mindhunters), key=key)]


def test_filters_combine_with_and(mindhunters: VendorClient) -> None:
    listed = everything(mindhunters, status="active", type="local", country_code="US")
    expected = [
        r
        for r in bought(mindhunters)
        if (r["status"], r["type"], r["country_code"]) == ("active", "local", "US")
    ]
    assert sorted(i["phone_number_uuid"] for i in listed) == sorted(r["phone_number_uuid"] for r in expected)


@pytest.mark.parametrize(
    ("params", "field", "details"),
    [
        ({"per_page": "101"}, "per_page", "The per page field must not be greater than 100."),
        ({"per_page": "0"}, "per_page", "The per page field must be at least 1."),
        ({"page": "0"}, "page", "The page field must be at least 1."),
        ({"page": "two"}, "page", "The page field must be an integer."),
        ({"status": "live"}, "status", "The selected status is invalid."),
        ({"sort": "price"}, "sort", "The selected sort is invalid."),
        ({"include_external": "yes"}, "include_external", "The selected include external is invalid."),
        (
            {"bound_to_agent_uuid": "agent-7"},
            "bound_to_agent_uuid",
            "The bound to agent uuid field must be a valid UUID.",
        ),
    ],
)
def test_invalid_parameters_get_the_documented_validation_envelope(
    mindhunters: VendorClient, params: dict[str, str], field: str, details: str
) -> None:
    """errors page: 422 for validation errors, with error.field; the code name is an assumption."""
    response = mindhunters.get(LIST, params=params)
    assert response.status_code == 422
    assert response.json() == {
        "success": False,
        "message": "The given data was invalid.",
        "error": {"code": "VALIDATION_ERROR", "details": details, "field": field},
    }


def test_missing_token_gets_the_documented_401(mindhunters: VendorClient) -> None:
    response = mindhunters.get(LIST, auth=False)
    assert response.status_code == 401
    assert response.json() == {
        "success": False,
        "message": "Authentication required",
        "error": {"code": "MISSING_AUTH_TOKEN", "details": "No authorization header provided"},
    }


def test_invalid_token_gets_the_documented_401(mindhunters: VendorClient) -> None:
    response = mindhunters.get(LIST, auth=False, headers={"Authorization": "Bearer revoked"})
    assert response.status_code == 401
    assert response.json() == {
        "success": False,
        "message": "Invalid authentication token",
        "error": {
            "code": "INVALID_AUTH_TOKEN",
            "details": "The provided token is invalid or has been revoked",
        },
    }


def test_with_externals_the_first_page_opens_with_the_documented_example(mindhunters: VendorClient) -> None:
    first = mindhunters.get(LIST, params={"include_external": "1"}).json()["data"]["items"][0]
    assert first["phone_number_uuid"] == EXAMPLE_UUID


def test_a_search_never_matches_across_fields(mindhunters: VendorClient) -> None:
    """A control character cannot join the number to the country (no separator trick)."""
    assert everything(mindhunters, search="\x1f") == []
    assert everything(mindhunters, search="0\x1fus") == []


def test_array_style_parameters_are_refused_not_ignored(mindhunters: VendorClient) -> None:
    response = mindhunters.get(LIST, params={"status[]": "pending"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "status"


def test_a_page_beyond_64_bits_is_a_422_not_a_500(mindhunters: VendorClient) -> None:
    response = mindhunters.get(LIST, params={"page": str(2**64)})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "page"


def test_the_index_shows_the_documented_test_credential(mindhunters: VendorClient) -> None:
    index = {vendor["id"]: vendor for vendor in mindhunters.client.get("/__mock__").json()["vendors"]}
    assert index["mindhunters"]["test_credentials"] == [{"Authorization": "Bearer mindhunters-test-token"}]
