"""Famulor's documented number lifecycle, driven as a client would (search, purchase, nickname, release).

Each Python client the plugin intercepts (httpx, requests, aiohttp) sees the same answers, in the documented
bodies of docs.famulor.io phone-numbers/{search,purchase,update,release}.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import httpx
import pytest
import requests

from mockserver.testing.mocks import mock_vendors

BASE = "https://app.famulor.de"
NOT_AVAILABLE = "This phone number is not available for purchase. Please search for available numbers first."
Call = Callable[[str, str, Any], tuple[int, Any]]


def _httpx(headers: dict[str, str]) -> Call:
    client = httpx.Client(base_url=BASE, headers=headers)

    def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = client.request(method, path, json=body)
        return response.status_code, response.json()

    return call


def _requests(headers: dict[str, str]) -> Call:
    def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = requests.request(method, BASE + path, json=body, headers=headers, timeout=5)
        return response.status_code, response.json()

    return call


def _aiohttp(headers: dict[str, str]) -> Call:
    async def go(method: str, path: str, body: Any) -> tuple[int, Any]:
        async with (
            aiohttp.ClientSession(headers=headers) as session,
            session.request(method, BASE + path, json=body) as response,
        ):
            return response.status, await response.json()

    def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return asyncio.run(go(method, path, body))

    return call


def _listed(call: Call, number_id: int) -> list[dict[str, Any]]:
    status, body = call("GET", "/api/user/phone-numbers/all", None)
    assert status == 200
    return [item for item in body["data"] if item["id"] == number_id]


@pytest.mark.parametrize("client", [_httpx, _requests, _aiohttp], ids=["httpx", "requests", "aiohttp"])
def test_search_purchase_rename_release_and_the_period_ends(client: Callable[[dict[str, str]], Call]) -> None:
    with mock_vendors("famulor") as mock:
        call = client(mock.famulor.headers)
        status, found = call("GET", "/api/user/phone-numbers/search?country_code=GB", None)
        assert status == 200
        assert found["data"]
        assert {item["country_code"] for item in found["data"]} == {"GB"}
        number = found["data"][0]["phone_number"]

        status, bought = call("POST", "/api/user/phone-numbers/purchase", {"phone_number": number})
        assert status == 201
        assert bought["message"] == "Phone number purchased successfully."
        assert bought["data"]["phone_number"] == number
        assert bought["data"]["type"] == "normal"
        number_id = bought["data"]["id"]
        assert _listed(call, number_id)[0]["has_active_subscription"] is True
        _, again = call("GET", "/api/user/phone-numbers/search?country_code=GB", None)
        assert number not in [item["phone_number"] for item in again["data"]]

        status, renamed = call("PUT", f"/api/user/phone-numbers/{number_id}", {"nickname": "Sales line"})
        assert status == 200
        assert renamed["data"]["nickname"] == "Sales line"
        assert _listed(call, number_id)[0]["nickname"] == "Sales line"

        status, released = call("DELETE", f"/api/user/phone-numbers/{number_id}", None)
        assert (status, released["message"]) == (
            200, "Phone number released successfully. It will be removed at the end of the billing period.",
        )  # fmt: skip
        [still] = _listed(call, number_id)
        assert still["has_active_subscription"] is False
        assert call("DELETE", f"/api/user/phone-numbers/{number_id}", None) == (
            400, {"error": "Phone number is already scheduled for release."},
        )  # fmt: skip

        mock.famulor.advance(days=31)
        assert _listed(call, number_id) == []


def test_each_error_is_the_documented_body() -> None:
    with mock_vendors("famulor") as mock:
        call = _httpx(mock.famulor.headers)
        held = mock.famulor.records("phone-numbers")[0]["phone_number"]
        assert call("POST", "/api/user/phone-numbers/purchase", {"phone_number": held}) == (
            400, {"error": "This phone number is already in use."},
        )  # fmt: skip
        assert call("POST", "/api/user/phone-numbers/purchase", {"phone_number": "+4930000000"}) == (
            400,
            {"error": NOT_AVAILABLE},
        )
        assert call("POST", "/api/user/phone-numbers/purchase", {"phone_number": "0301234"}) == (
            422, {"error": "Unable to parse phone number. Please provide a valid E.164 format number."},
        )  # fmt: skip
        _, found = call("GET", "/api/user/phone-numbers/search", None)
        assert {item["country_code"] for item in found["data"]} == {"DE"}  # the documented default
        mock.famulor.switch("payment_failed")
        offered = {"phone_number": found["data"][0]["phone_number"]}
        assert call("POST", "/api/user/phone-numbers/purchase", offered) == (
            402, {"error": "Payment failed. Please update your payment method."},
        )  # fmt: skip
        too_long = "x" * 51
        message = "The nickname must not exceed 50 characters."
        assert call("PUT", "/api/user/phone-numbers/1", {"nickname": too_long}) == (
            422, {"message": message, "errors": {"nickname": [message]}},
        )  # fmt: skip
        assert call("PUT", "/api/user/phone-numbers/1", {"nickname": ""})[1]["data"]["nickname"] is None
        assert call("PUT", "/api/user/phone-numbers/999999", {"nickname": "a"}) == (
            404, {"error": "Phone number not found."},
        )  # fmt: skip
        assert call("DELETE", "/api/user/phone-numbers/999999", None) == (
            404,
            {"error": "Phone number not found."},
        )
        status, body = call("GET", "/api/user/phone-numbers/search?contains=12a", None)
        assert status == 422
        assert "contains" in body["errors"]


def test_sip_and_caller_id_numbers_are_deleted_at_once() -> None:
    with mock_vendors("famulor") as mock:
        call = _httpx(mock.famulor.headers)
        sip = next(item for item in mock.famulor.records("phone-numbers") if item["type"] != "normal")
        assert call("DELETE", f"/api/user/phone-numbers/{sip['id']}", None) == (
            200, {"message": "Phone number deleted successfully."},
        )  # fmt: skip
        assert _listed(call, sip["id"]) == []
