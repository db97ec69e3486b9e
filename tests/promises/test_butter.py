"""Butter AI: the promises of docs.getbutter.ai for GET /api/phone-numbers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mockserver import Credential, EmulatorConfig, create_app
from mockserver.documents.schemas import SchemaStore
from mockserver.intercept.transport import EmulatorTransport
from tests.conftest import VendorClient, strictly_valid
from tests.documented import BUTTER_PHONE_NUMBERS

LIST = "/api/phone-numbers"
OTHER_ORG = {"X-API-Key": "bk_test_other", "X-Organization-Id": "org_other"}


def walk(client: VendorClient, **params: Any) -> list[dict[str, Any]]:
    """Follow next_cursor to the end; return every page's body."""
    pages, cursor = [], None
    while True:
        response = client.get(LIST, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = pages[-1]["pagination"]["next_cursor"]
        if cursor is None:
            return pages


@pytest.fixture
def isolated_app() -> Starlette:
    """A fresh emulator that also accepts a key of a second organization."""
    return create_app(EmulatorConfig(credentials={"butter": (Credential("bk_test_other", "org_other"),)}))


@pytest.fixture
def isolated(isolated_app: Starlette) -> Iterator[httpx.Client]:
    with httpx.Client(transport=EmulatorTransport(isolated_app), base_url="http://e") as client:
        yield client


def test_default_page_holds_twenty_numbers_newest_first(butter: VendorClient, store: SchemaStore) -> None:
    """Default page size and order are assumptions (options default_page_size, sort_direction)."""
    body = strictly_valid(store, butter, LIST, butter.get(LIST).json())
    assert body["success"] is True
    assert len(body["data"]) == 20
    created = [item["created_at"] for item in body["data"]]
    assert created == sorted(created, reverse=True)
    assert body["pagination"]["has_more"] is True
    assert body["pagination"]["total_count"] == len(butter.records("phone-numbers"))


def test_walking_the_cursor_lists_every_number_once_and_ends_with_a_null_cursor(butter: VendorClient) -> None:
    """intro: list endpoints are cursor-paginated; next_cursor is null on the last page."""
    pages = walk(butter, page_size=7)
    ids = [item["phone_number_id"] for page in pages for item in page["data"]]
    assert len(ids) == len(set(ids)) == len(butter.records("phone-numbers"))
    assert pages[-1]["pagination"] == {**pages[-1]["pagination"], "next_cursor": None, "has_more": False}
    assert all(page["pagination"]["has_more"] for page in pages[:-1])


def test_cursor_is_opaque_base64_json_like_the_documented_example(butter: VendorClient) -> None:
    """intro: the example next_cursor starts 'eyJpZ' (base64 of '{"id')."""
    cursor = butter.get(LIST).json()["pagination"]["next_cursor"]
    assert cursor.startswith("eyJpZ")


def test_status_filter_returns_only_that_status(butter: VendorClient) -> None:
    for status in ("free", "assigned"):
        items = [item for page in walk(butter, status=status, page_size=100) for item in page["data"]]
        assert items
        assert {item["status"] for item in items} == {status}
        expected = [r for r in butter.records("phone-numbers") if r["status"] == status]
        assert len(items) == len(expected)


def test_total_count_counts_the_filtered_set(butter: VendorClient) -> None:
    free = butter.get(LIST, params={"status": "free"}).json()["pagination"]["total_count"]
    assigned = butter.get(LIST, params={"status": "assigned"}).json()["pagination"]["total_count"]
    assert free + assigned == butter.get(LIST).json()["pagination"]["total_count"]


def test_page_size_reports_the_items_on_the_page(butter: VendorClient) -> None:
    """The documented example shows page_size 2 on a 2-item last page (option page_size_reports)."""
    total = butter.get(LIST).json()["pagination"]["total_count"]
    last = walk(butter, page_size=25)[-1]
    assert last["pagination"]["page_size"] == len(last["data"]) == total % 25


def test_limit_is_accepted_as_an_alias_of_page_size(butter: VendorClient) -> None:
    assert len(butter.get(LIST, params={"limit": 3}).json()["data"]) == 3
    assert len(butter.get(LIST, params={"limit": 3, "page_size": 5}).json()["data"]) == 5


@pytest.mark.parametrize("value", ["0", "101", "-1", "ten", "1.5", ""])
def test_invalid_page_size_is_a_400(butter: VendorClient, value: str) -> None:
    response = butter.get(LIST, params={"page_size": value})
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "invalid_parameter"
    assert body["error"]["field"] == "page_size"


def test_unknown_status_is_a_400_naming_the_allowed_values(butter: VendorClient) -> None:
    response = butter.get(LIST, params={"status": "busy"})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Invalid value for 'status': expected one of free, assigned"


@pytest.mark.parametrize("cursor", ["garbage", "eyJpZCI6MX0", "eyJpZCI6MX0.AAAA", "a.b.c", "%%%"])
def test_a_cursor_we_did_not_issue_is_a_400(butter: VendorClient, cursor: str) -> None:
    response = butter.get(LIST, params={"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "cursor"


def test_a_tampered_cursor_is_a_400(butter: VendorClient) -> None:
    cursor = butter.get(LIST).json()["pagination"]["next_cursor"]
    tampered = cursor[:5] + ("A" if cursor[5] != "A" else "B") + cursor[6:]
    assert butter.get(LIST, params={"cursor": tampered}).status_code == 400


def test_a_cursor_replayed_with_other_filters_is_a_400(butter: VendorClient) -> None:
    cursor = butter.get(LIST, params={"status": "free", "page_size": 2}).json()["pagination"]["next_cursor"]
    response = butter.get(LIST, params={"status": "assigned", "cursor": cursor})
    assert response.status_code == 400
    assert "other filters" in response.json()["error"]["message"]


def test_page_size_may_change_mid_walk(butter: VendorClient) -> None:
    first = butter.get(LIST, params={"page_size": 2}).json()
    second = butter.get(LIST, params={"page_size": 5, "cursor": first["pagination"]["next_cursor"]}).json()
    assert len(second["data"]) == 5
    assert first["data"][-1]["created_at"] > second["data"][0]["created_at"]


def test_a_cursor_of_another_organization_is_a_400(isolated: httpx.Client) -> None:
    own = {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"}
    cursor = isolated.get(f"/butter{LIST}", headers=own).json()["pagination"]["next_cursor"]
    response = isolated.get(f"/butter{LIST}", params={"cursor": cursor}, headers=OTHER_ORG)
    assert response.status_code == 400


def test_the_documented_response_is_reproduced_exactly_from_the_documented_records(
    isolated: httpx.Client, isolated_app: Starlette
) -> None:
    """Seed 001: with just the two documented numbers, the emulator answers the documented body."""
    isolated_app.state.emulator.datasets["butter"].replace("org_test", "phone-numbers", BUTTER_PHONE_NUMBERS)
    headers = {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"}
    body = isolated.get(f"/butter{LIST}", headers=headers).json()
    assert body == {
        "success": True,
        "data": BUTTER_PHONE_NUMBERS,
        "pagination": {"next_cursor": None, "has_more": False, "page_size": 2, "total_count": 2},
    }


def test_missing_api_key_or_organization_is_a_401(butter: VendorClient) -> None:
    """seed 001: X-API-Key and X-Organization-Id are both required."""
    no_key = butter.get(LIST, auth=False, headers={"X-Organization-Id": "org_test"})
    no_org = butter.get(LIST, auth=False, headers={"X-API-Key": "bk_test_butter"})
    assert (no_key.status_code, no_org.status_code) == (401, 401)
    assert "X-API-Key" in no_key.json()["error"]["message"]
    assert "X-Organization-Id" in no_org.json()["error"]["message"]


def test_invalid_api_key_is_a_401(butter: VendorClient) -> None:
    response = butter.get(
        LIST, auth=False, headers={"X-API-Key": "bk_live_nope", "X-Organization-Id": "org_test"}
    )
    assert response.status_code == 401
    assert response.json() == {
        "success": False,
        "error": {"code": "unauthorized", "message": "Invalid API key"},
    }


def test_a_key_used_for_another_organization_is_a_403(butter: VendorClient) -> None:
    response = butter.get(
        LIST, auth=False, headers={"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_x"}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_the_default_first_page_opens_with_the_documented_numbers_in_documented_order(
    butter: VendorClient,
) -> None:
    """The fixtures are generated older than the examples, so a developer's first request shows them."""
    assert butter.get(LIST).json()["data"][:2] == BUTTER_PHONE_NUMBERS


def test_a_cursor_issued_under_another_order_is_refused(butter: VendorClient) -> None:
    """Order is part of what a cursor is bound to, so a replica with other options cannot misread it."""
    other = create_app(EmulatorConfig(options={"butter": {"sort_direction": "asc"}}))
    with httpx.Client(transport=EmulatorTransport(other), base_url="http://e") as client:
        cursor = client.get(f"/butter{LIST}", headers=butter.auth).json()["pagination"]["next_cursor"]
    assert butter.get(LIST, params={"cursor": cursor}).status_code == 400


def test_white_space_other_than_space_and_tab_is_part_of_the_key(butter: VendorClient) -> None:
    for key in (b"bk_test_butter\x85", b"\xa0bk_test_butter", b"bk_test_butter\x0b"):
        response = butter.client.get(
            f"/butter{LIST}", headers={b"X-API-Key": key, b"X-Organization-Id": b"org_test"}
        )
        assert response.status_code == 401, key
    spaced = {"X-API-Key": " bk_test_butter\t", "X-Organization-Id": "org_test "}
    assert butter.get(LIST, auth=False, headers=spaced).status_code == 200


def test_the_index_shows_the_documented_test_credential(butter: VendorClient) -> None:
    index = {vendor["id"]: vendor for vendor in butter.client.get("/__mock__").json()["vendors"]}
    assert index["butter"]["test_credentials"] == [
        {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"}
    ]
