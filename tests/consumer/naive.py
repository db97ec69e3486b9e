"""A NAIVE client of each vendor's phone-number list, as many first integrations are written.

It trusts what the vendor says: the end flag or the total decides when paging stops, required fields are
indexed directly, enum values are parsed into closed Python enums, timestamps by one fixed layout; it does
not retry. The drift rehearsal (docs/drifts.md, "How to read the matrix") shows where that breaks;
:mod:`tests.consumer.careful` is the same client written defensively.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

import httpx

from tests.consumer.inventory import BUTTER, CONTACTSHIP, FAMULOR
from tests.consumer.model import MINDHUNTERS, Number


class ButterProvider(Enum):
    TWILIO = "twilio"
    SIP = "sip"


class ContactshipType(Enum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class FamulorType(Enum):
    NORMAL = "normal"
    SIP = "sip"
    CALLER_ID = "caller_id"


class MindhuntersType(Enum):
    LOCAL = "local"
    TOLL_FREE = "toll_free"
    MOBILE = "mobile"
    NATIONAL = "national"


def _when(text: str, layout: str = "%Y-%m-%dT%H:%M:%SZ") -> datetime:
    return datetime.strptime(text, layout).replace(tzinfo=UTC)


def _get(client: httpx.Client, url: str, **kwargs: Any) -> Any:
    response = client.get(url, **kwargs)
    response.raise_for_status()
    return response.json()


def famulor_numbers(client: httpx.Client, api_key: str) -> list[Number]:
    """The account's numbers (one answer, no paging)."""
    body = _get(client, f"{FAMULOR}/api/user/phone-numbers", headers={"Authorization": f"Bearer {api_key}"})
    return [
        Number(
            item["phone_number"],
            FamulorType(item["type"]).value,
            _when(item["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ"),
        )
        for item in body["data"]
    ]


def butter_numbers(client: httpx.Client, headers: dict[str, str], status: str) -> list[Number]:
    """Every number of one status, page after page while ``has_more`` says so."""
    params: dict[str, Any] = {"page_size": 3, "status": status}
    numbers: list[Number] = []
    while True:
        body = _get(client, f"{BUTTER}/api/phone-numbers", headers=headers, params=params)
        numbers += [
            Number(item["phone_number"], ButterProvider(item["provider"]).value, _when(item["created_at"]))
            for item in body["data"]
        ]
        if not body["pagination"]["has_more"]:
            return numbers
        params["cursor"] = body["pagination"]["next_cursor"]


def contactship_numbers(client: httpx.Client, api_key: str) -> list[Number]:
    """Every number: pages of 3 until as many as ``count`` promises (``count`` ignores a type filter, so
    even this client does not filter)."""
    numbers: list[Number] = []
    while True:
        params = {"limit": 3, "offset": len(numbers)}
        body = _get(client, f"{CONTACTSHIP}/v1/phone-numbers", headers={"x-api-key": api_key}, params=params)
        numbers += [
            Number(item["phone_number"], ContactshipType(item["type"]).value, _when(item["created_at"]))
            for item in body["data"]
        ]
        if len(numbers) >= body["count"]:
            return numbers


def mindhunters_numbers(client: httpx.Client, token: str, status: str) -> list[Number]:
    """Every number of one status, page after page while ``has_more`` says so."""
    numbers: list[Number] = []
    page = 1
    while True:
        params: dict[str, Any] = {"page": page, "per_page": 3, "status": status}
        body = _get(
            client,
            f"{MINDHUNTERS}/api/v1/phone-numbers",
            headers={"Authorization": f"Bearer {token}"},
            params=params,
        )["data"]
        numbers += [
            Number(item["number"], MindhuntersType(item["type"]).value, _when(item["purchased_at"]))
            for item in body["items"]
        ]
        if not body["pagination"]["has_more"]:
            return numbers
        page += 1
